"""Turn a record link (``@<python>``) into a function, once, at record init.

The IOC calls :func:`compile_link` for every ``DTYP "pydev"`` record.  The link text becomes
the body of a function whose parameters are the *field macros* the text uses, so field
values reach the code as ordinary Python values at process time and are never spliced into
source: a value written by a client can never change which code runs.

Rules (compatible with the original PyDevice):

- A stand-alone upper-case name that is a field of the record (``VAL``, ``NAME``, ``EGU``,
  ...) is a macro and evaluates to that field's value.  A field name with ``_STR``
  (``VAL_STR``) evaluates to the field as EPICS' string form: an enum's state string.
- Inside a string literal, a stand-alone field word (``'VAL'``) or ``%FIELD%`` is replaced by
  the field's text; the text is inserted as data and can never end the literal.  A word after
  a ``.`` (``'TANK:LEVEL.VAL'``, a PV name for ``pydev.get``) is left alone.
- The value of a final expression is the result; statements alone give ``None``.
- All links share one global namespace; names a link assigns at its top level are globals
  (``@x = VAL`` sets ``x`` for everyone).
- A link may ``await`` (``@await plc.read(VAL)``, ``async with``, ``async for``): it then
  compiles to an ``async def``, and the IOC awaits the coroutine it gives on its event loop
  (:mod:`pydevice.aio`).  A link whose value is an awaitable is awaited the same way.
- ``pydev.iointr('name')`` as the whole link registers the record for ``SCAN "I/O Intr"``.
  The argument may be any expression: it is evaluated once, here, in the shared namespace
  (``@pydev.iointr(rpi.watch('Input_1'))``), so a module can check the name and fail the
  record at init with a clear message.
"""
from __future__ import annotations

import ast
import contextlib
import re
import sys
from typing import Callable, Collection, Iterator, NamedTuple

__all__ = ["Link", "compile_link"]

_ARG_PREFIX = "_pydev_m_"
# a bare field word right after a '.' is part of a PV name ('TANK:LEVEL.VAL'), not a macro
_FIELD_WORD = re.compile(r"%([A-Z][A-Z0-9]*(?:_STR)?)%|(?<![A-Za-z0-9_.])([A-Z][A-Z0-9]*)(?![A-Za-z0-9_])")
_AS_STRING = "_STR"  # FIELD_STR: the field read as a string (an enum's state string)


class Link(NamedTuple):
    """A compiled link: call ``function(*values of macros)``.

    ``runs_field_code`` is true when the link passes a field's value to ``exec``, ``eval``
    or ``compile``: whoever may write that field may run code in the IOC, so the IOC
    demands an access security group for the record.
    """

    function: Callable[..., object]
    macros: tuple[str, ...]
    iointr: str | None
    runs_field_code: bool = False


_CODE_RUNNERS = frozenset({"exec", "eval", "compile"})


def _runs_field_code(tree: ast.AST) -> bool:
    """Whether a field macro reaches an argument of exec/eval/compile."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _CODE_RUNNERS):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                if any(isinstance(n, ast.Name) and n.id.startswith(_ARG_PREFIX)
                       for n in ast.walk(argument)):
                    return True
    return False


def _iointr_argument(tree: ast.Module) -> ast.expr | None:
    """The argument of a link that is exactly ``pydev.iointr(<one argument>)``, else None."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "iointr"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "pydev"
        and len(call.args) == 1
        and not call.keywords
        and not isinstance(call.args[0], ast.Starred)
    ):
        return call.args[0]
    return None


def _iointr_name(tree: ast.Module, record: str, namespace: dict) -> str | None:
    """The I/O Intr name of the link, evaluating a non-literal argument once."""
    argument = _iointr_argument(tree)
    if argument is None:
        return None
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    expression = ast.fix_missing_locations(ast.Expression(body=argument))
    name = eval(compile(expression, record, "eval", dont_inherit=True), namespace)
    if not isinstance(name, str):
        raise TypeError(f"pydev.iointr() name must be a str, not {type(name).__name__}")
    return name


class _Macros(ast.NodeTransformer):
    """Replace field macros by references to the function's parameters."""

    def __init__(self, fields: Collection[str]) -> None:
        self.fields = fields
        self.used: dict[str, None] = {}  # ordered set

    def is_macro(self, name: str) -> bool:
        """A field of the record, or a field with ``_STR`` (its string form)."""
        if name.endswith(_AS_STRING):
            name = name[: -len(_AS_STRING)]
        return name in self.fields

    def _arg(self, field: str) -> ast.Name:
        self.used.setdefault(field)
        return ast.Name(id=_ARG_PREFIX + field, ctx=ast.Load())

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id.isupper() and self.is_macro(node.id):
            return ast.copy_location(self._arg(node.id), node)
        return node

    def _parts(self, text: str) -> list[ast.expr] | None:
        """Split string text into constants and field values, or None if no macro."""
        parts: list[ast.expr] = []
        pos = 0
        for match in _FIELD_WORD.finditer(text):
            field = match.group(1) or match.group(2)
            if not self.is_macro(field):
                continue
            if match.start() > pos:
                parts.append(ast.Constant(text[pos : match.start()]))
            parts.append(ast.FormattedValue(value=self._arg(field), conversion=-1, format_spec=None))
            pos = match.end()
        if not parts:
            return None
        if pos < len(text):
            parts.append(ast.Constant(text[pos:]))
        return parts

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):
            parts = self._parts(node.value)
            if parts is not None:
                return ast.copy_location(ast.JoinedStr(values=parts), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        values: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                values.extend(self._parts(value.value) or [value])
            else:
                values.append(self.visit(value))
        node.values = values
        return node

    def visit_MatchValue(self, node: ast.AST) -> ast.AST:
        return node  # patterns must stay literal


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _top_level_bindings(body: list[ast.stmt]) -> list[str]:
    """Names the snippet binds in its own scope; they become globals."""
    names: dict[str, None] = {}
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            raise SyntaxError(f"'{type(node).__name__.lower()}' outside function")
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.setdefault(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.setdefault((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.setdefault(node.name)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            names.setdefault(node.target.id)
        if isinstance(node, _SCOPES):
            # decorators, defaults and the first iterable are evaluated in our scope
            outer: list[ast.AST] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                outer += node.decorator_list
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                outer += node.args.defaults + [d for d in node.args.kw_defaults if d]
            if isinstance(node, ast.ClassDef):
                outer += node.bases + [k.value for k in node.keywords]
            if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                outer.append(node.generators[0].iter)
                for gen in node.generators:  # walrus inside a comprehension binds here
                    stack.extend(n for n in ast.walk(gen) if isinstance(n, ast.NamedExpr))
            stack.extend(outer)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return list(names)


_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _awaits(body: list[ast.stmt]) -> bool:
    """Whether the snippet's own scope awaits (so it must become an ``async def``)."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return True
        if isinstance(node, ast.comprehension) and node.is_async:
            return True
        if isinstance(node, _NEW_SCOPES):
            continue  # an inner function awaits for itself
        stack.extend(ast.iter_child_nodes(node))
    return False


def _depth(tree: ast.AST) -> int:
    """How deeply the syntax tree nests (without recursion: that is what it measures)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


@contextlib.contextmanager
def _recursion_room(tree: ast.AST) -> Iterator[None]:
    """Let the recursive tree walks below handle whatever nesting the parser accepted.

    A chain of a few hundred operators parses and compiles in Python, but walking it with
    ``ast.NodeTransformer`` takes a few frames per level; the limit is raised by that much
    for the walk and compilation only.
    """
    old = sys.getrecursionlimit()
    needed = old + 4 * _depth(tree)
    if needed <= old + 200:  # an everyday link: the limit is room enough
        yield
        return
    sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def compile_link(text: str, record: str, fields: Collection[str], namespace: dict) -> Link:
    """Compile link ``text`` of ``record`` whose valid field names are ``fields``.

    ``namespace`` is the shared global dictionary the code runs in.  Raises SyntaxError
    (with ``record`` as the file name) when the text is not valid Python, and whatever the
    argument of a ``pydev.iointr(<expression>)`` link raises when it is evaluated.
    """
    text = text.lstrip(" \t")  # "@ tank.level()" reads naturally; Python would not indent it
    tree = ast.parse(text, filename=record, mode="exec")
    iointr = _iointr_name(tree, record, namespace)
    with _recursion_room(tree):
        return _compile_tree(tree, record, fields, namespace, iointr)


def _compile_tree(tree: ast.Module, record: str, fields: Collection[str], namespace: dict,
                  iointr: str | None) -> Link:
    macros = _Macros(fields)
    tree = macros.visit(tree)
    body = tree.body or [ast.Pass()]
    try:
        bindings = _top_level_bindings(body)
    except SyntaxError as err:
        raise SyntaxError(f"{err.msg} ({record})") from None
    if isinstance(body[-1], ast.Expr):
        body[-1] = ast.copy_location(ast.Return(value=body[-1].value), body[-1])
    if bindings:
        body.insert(0, ast.Global(names=bindings))
    args = [ast.arg(arg=_ARG_PREFIX + name) for name in macros.used]
    kind = ast.AsyncFunctionDef if _awaits(body) else ast.FunctionDef
    func = kind(
        name="link",
        args=ast.arguments(posonlyargs=[], args=args, vararg=None, kwonlyargs=[],
                           kw_defaults=[], kwarg=None, defaults=[]),
        body=body, decorator_list=[], returns=None, type_comment=None,
    )
    module = ast.fix_missing_locations(ast.Module(body=[func], type_ignores=[]))
    code = compile(module, record, "exec", dont_inherit=True)
    scope: dict = {}
    exec(code, namespace, scope)  # defines the function with `namespace` as its globals
    function = scope["link"]
    names = {"co_name": record}
    if sys.version_info >= (3, 11):  # tracebacks show co_qualname from 3.11 on
        names["co_qualname"] = record
    function.__code__ = function.__code__.replace(**names)
    return Link(function, tuple(macros.used), iointr, _runs_field_code(module))
