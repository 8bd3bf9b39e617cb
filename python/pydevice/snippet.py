# SPDX-License-Identifier: BSD-3-Clause
"""Turn a record link (``@<python>``) into a function, once, at record init.

The IOC calls :func:`compile_link` for every ``DTYP "pydev"`` record.  The link text becomes
the body of a function whose parameters are the *field macros* the text uses, so field
values reach the code as ordinary Python values at process time and are never spliced into
source: a value written by a client can never change which code runs.

Rules (compatible with the original PyDevice):

- A stand-alone upper-case name that is a field of the record (``VAL``, ``NAME``, ``EGU``,
  ``SCAN``, ...) is a macro and evaluates to that field's value, and so is ``%FIELD%``
  where Python has no ``%`` operator (``[v.upper() for v in %VAL%]``).  A field name with
  ``_STR`` (``VAL_STR``) evaluates to the field as EPICS' string form: an enum's state string.
- Inside a string literal, ``%FIELD%`` (any field) and the stand-alone words the original
  tutorial lists for the record type (:data:`LITERAL_WORDS`: ``'VAL'``, ``'NAME'``, ...)
  are replaced by the field's text; the text is inserted as data and can never end the
  literal.  Other words stay words (``':OUTP:STAT ON'``), and so does a word after a ``.``
  (``'TANK:LEVEL.VAL'``, a PV name for ``pydev.get``).
- Control characters inside a one-line string literal (EPICS' database parser turns the
  ``\\n`` of ``field(OUT, "@print('a\\nb')")`` into a newline before the IOC sees it) are
  read as the escape sequences they were written as.
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
import keyword
import re
import sys
from typing import Callable, Collection, Iterator, NamedTuple

__all__ = ["Link", "Usage", "compile_link", "LITERAL_WORDS"]

_ARG_PREFIX = "_pydev_m_"
# a bare field word right after a '.' is part of a PV name ('TANK:LEVEL.VAL'), not a macro
_FIELD_WORD = re.compile(r"%([A-Z][A-Z0-9]*(?:_STR)?)%|(?<![A-Za-z0-9_.])([A-Z][A-Z0-9]*)(?![A-Za-z0-9_])")
_AS_STRING = "_STR"  # FIELD_STR: the field read as a string (an enum's state string)


_STATES = ("ZR", "ON", "TW", "TH", "FR", "FV", "SX", "SV", "EI", "NI", "TE", "EL", "TV", "TT",
           "FT", "FF")
_LONG_WORDS = ("VAL", "NAME", "EGU", "HOPR", "LOPR", "HIGH", "HIHI", "LOW", "LOLO")
_LITERAL_TABLE = {
    # the original tutorial's "Supported field macros per record"
    ("longin", "longout"): _LONG_WORDS,
    ("bi", "bo"): ("VAL", "NAME", "ZNAM", "ONAM"),
    ("mbbi", "mbbo"): ("VAL", "RVAL", "NAME") + tuple(s + "VL" for s in _STATES)
                      + tuple(s + "ST" for s in _STATES),
    ("ai", "ao"): ("VAL", "RVAL", "ORAW", "NAME", "EGU", "HOPR", "LOPR", "PREC"),
    ("stringin", "stringout"): ("VAL", "NAME"),
    ("lsi", "lso"): ("VAL", "NAME", "SIZV", "LEN"),
    ("waveform",): ("VAL",),
    # types the tutorial does not cover, as their nearest relatives there
    ("int64in", "int64out"): _LONG_WORDS,
    ("mbbiDirect", "mbboDirect"): ("VAL", "RVAL", "NAME"),
    ("aai", "aao"): ("VAL",),
}
LITERAL_WORDS: dict[str, frozenset[str]] = {
    rtype: frozenset(words) for rtypes, words in _LITERAL_TABLE.items() for rtype in rtypes}
"""Per record type, the field words that stand alone inside a string literal and are
replaced there (as the original PyDevice's tutorial lists them).  Any other field needs
``%FIELD%`` inside a literal; a record type not listed has no such words."""


class Usage(NamedTuple):
    """Which words of a link were taken as field macros, and which were not."""

    code: tuple[str, ...] = ()     # fields used as values outside string literals
    strings: tuple[str, ...] = ()  # replaced inside literals, as written: VAL or %NAME%
    kept: tuple[str, ...] = ()     # field words inside literals that stayed words
    glued: tuple[str, ...] = ()    # %FIELD% joined to a word outside literals (text pasting)
    iointr_expression: str | None = None  # pydev.iointr(<this>), not evaluated

    def describe(self) -> str:
        """One line for TPRO and ``pydevReport 2`` ("" when the link has no field words)."""
        parts = []
        if self.code:
            parts.append("macros: " + ", ".join(self.code))
        if self.strings:
            parts.append("in strings: " + ", ".join(self.strings))
        if self.kept:
            parts.append("words in strings, not macros: " + ", ".join(self.kept)
                         + f" (%{self.kept[0]}% for the field)")
        return "; ".join(parts)


class Link(NamedTuple):
    """A compiled link: call ``function(*values of macros)``.

    ``runs_field_code`` is true when the link passes a field's value to ``exec``, ``eval``
    or ``compile``: whoever may write that field may run code in the IOC, so the IOC
    demands an access security group for the record.  ``words`` is ``usage.describe()``.
    """

    function: Callable[..., object]
    macros: tuple[str, ...]
    iointr: str | None
    runs_field_code: bool = False
    words: str = ""
    usage: Usage = Usage()


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
    """Replace field macros by references to the function's parameters.

    ``literal_words`` are the fields whose stand-alone word is a macro inside a string
    literal too; ``usage`` afterwards says which words were taken (and which were not).
    """

    def __init__(self, fields: Collection[str], literal_words: Collection[str] = ()) -> None:
        self.fields = fields
        self.literal_words = literal_words
        self.used: dict[str, None] = {}  # ordered sets
        self.code: dict[str, None] = {}
        self.strings: dict[str, None] = {}
        self.kept: dict[str, None] = {}

    def is_macro(self, name: str) -> bool:
        """A field of the record, or a field with ``_STR`` (its string form)."""
        if name.endswith(_AS_STRING):
            name = name[: -len(_AS_STRING)]
        return name in self.fields

    def is_literal_word(self, name: str) -> bool:
        """A stand-alone word that is a macro inside a string literal (VAL, VAL_STR)."""
        base = name[: -len(_AS_STRING)] if name.endswith(_AS_STRING) else name
        return base in self.literal_words and self.is_macro(name)

    def usage(self, glued: Collection[str] = (), iointr_expression: str | None = None) -> Usage:
        return Usage(tuple(self.code), tuple(self.strings), tuple(self.kept), tuple(glued),
                     iointr_expression)

    def _arg(self, field: str) -> ast.Name:
        self.used.setdefault(field)
        return ast.Name(id=_ARG_PREFIX + field, ctx=ast.Load())

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id.isupper() and self.is_macro(node.id):
            self.code.setdefault(node.id)
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
            if match.group(1):
                self.strings.setdefault(match.group(0))
            elif self.is_literal_word(field):
                self.strings.setdefault(field)
            else:  # a word such as SCPI's STAT or INP: only %STAT% is the field
                self.kept.setdefault(field)
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


_STRING_PREFIXES = frozenset({"r", "u", "b", "br", "rb", "f", "fr", "rf"})
_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v"}
_PERCENT_FIELD = re.compile(r"%([A-Z][A-Z0-9]*(?:_STR)?)%")
_OPERAND_KEYWORDS = frozenset({"True", "False", "None"})


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _prepare(text: str, is_field: Callable[[str], bool]) -> tuple[str, list[str]]:
    """The link text as Python reads it, and the ``%FIELD%`` that are glued to words.

    Two things the original PyDevice did to the text before Python saw it, done here on the
    text only (never with a value):

    - a control character inside a one-line string literal is put back as the escape
      sequence EPICS' database parser made it from (``'a\\nb'`` came as ``'a<newline>b'``);
    - outside string literals, ``%FIELD%`` where Python cannot read ``%`` as an operator
      (at the start, after ``(``, ``,``, ``in``, ...) becomes ``(FIELD)``, the same field
      macro as the bare name, with the same length (columns of errors stay right).

    A ``%FIELD%`` joined to a word outside literals (``dev%VAL%``, ``%VAL%x``) is left to
    Python and listed: the original pasted the value's text into a name there.
    """
    out: list[str] = []
    glued: list[str] = []
    operand = False  # the last token outside literals ends an operand (then % is modulo)
    depth = 0  # of brackets, inside which a newline does not end a statement
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":  # a comment: to the end of the line
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        elif c.isspace():
            out.append(c)
            operand = operand and not (c == "\n" and depth == 0)  # a new statement
            i += 1
        elif c in "'\"" or _is_word_char(c) and not c.isdigit():
            j = i
            while j < n and _is_word_char(text[j]):
                j += 1
            word = text[i:j]
            if j < n and text[j] in "'\"" and (not word or word.lower() in _STRING_PREFIXES):
                i = _string(text, i, j, "r" in word.lower(), out)
                operand = True
            else:
                out.append(word)
                operand = not keyword.iskeyword(word) or word in _OPERAND_KEYWORDS
                i = j
        elif c.isdigit() or c == "." and i + 1 < n and text[i + 1].isdigit():
            j = i + 1
            while j < n and (_is_word_char(text[j]) or text[j] == "."):
                j += 1
            out.append(text[i:j])
            operand = True
            i = j
        elif c == "%" and (match := _PERCENT_FIELD.match(text, i)) and is_field(match.group(1)):
            name = match.group(1)
            after = text[match.end()] if match.end() < n else ""
            if (operand and i and _is_word_char(text[i - 1])) or _is_word_char(after):
                glued.append(match.group(0))
            if operand:  # x %VAL% y: Python's operator, as it always was
                out.append(c)
                operand = False
                i += 1
            else:
                out.append(f"({name})")
                operand = True
                i = match.end()
        else:
            out.append(c)
            operand = c in ")]}"
            depth += (c in "([{") - operand
            i += 1
    return "".join(out), glued


def _string(text: str, start: int, quote_at: int, raw: bool, out: list[str]) -> int:
    """Copy the string literal at ``start`` (its quote at ``quote_at``) into ``out``, control
    characters of a one-line literal as escapes; returns the index after it."""
    quote = text[quote_at] * 3 if text.startswith(text[quote_at] * 3, quote_at) else text[quote_at]
    out.append(text[start : quote_at + len(quote)])
    i, n = quote_at + len(quote), len(text)
    while i < n:
        c = text[i]
        if text.startswith(quote, i):
            out.append(quote)
            return i + len(quote)
        if c == "\\" and i + 1 < n and text[i + 1] >= " ":
            out.append(text[i : i + 2])
            i += 2
            continue
        if len(quote) == 1 and (c < " " or c == "\x7f"):
            out.append(_ESCAPES.get(c) or f"\\x{ord(c):02x}")
        else:
            out.append(c)
        i += 1
    return n  # unterminated: Python says so


def compile_link(text: str, record: str, fields: Collection[str], namespace: dict,
                 rtype: str | None = None, *, evaluate_iointr: bool = True) -> Link:
    """Compile link ``text`` of ``record`` whose valid field names are ``fields``.

    ``namespace`` is the shared global dictionary the code runs in; ``rtype`` the record
    type, which says which field words are macros inside string literals
    (:data:`LITERAL_WORDS`; none for a type it does not list, e.g. None).  Raises
    SyntaxError (with ``record`` as the file name) when the text is not valid Python, and
    whatever the argument of a ``pydev.iointr(<expression>)`` link raises when it is
    evaluated.  With ``evaluate_iointr=False`` such an argument is not evaluated: the link's
    ``iointr`` is None and ``usage.iointr_expression`` its source (``python -m pydevice
    check`` compiles links so, without an IOC).
    """
    text = text.lstrip(" \t")  # "@ tank.level()" reads naturally; Python would not indent it
    macros = _Macros(fields, LITERAL_WORDS.get(rtype or "", ()))
    source, glued = _prepare(text, macros.is_macro)
    tree = ast.parse(source, filename=record, mode="exec")
    expression = None
    if evaluate_iointr:
        iointr = _iointr_name(tree, record, namespace)
    else:
        argument = _iointr_argument(tree)
        literal = isinstance(argument, ast.Constant) and isinstance(argument.value, str)
        # (literal: argument is an ast.Constant holding a str)
        iointr = argument.value if literal else None  # type: ignore[union-attr, assignment]
        expression = ast.get_source_segment(source, argument) if argument and not literal else None
    with _recursion_room(tree):
        link = _compile_tree(tree, record, macros, namespace, iointr)
    usage = macros.usage(glued, expression)
    # a function object takes attributes; Callable does not say so
    link.function.pydev_words = usage.describe()  # type: ignore[attr-defined]
    return link._replace(words=usage.describe(), usage=usage)


def _compile_tree(tree: ast.Module, record: str, macros: _Macros, namespace: dict,
                  iointr: str | None) -> Link:
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
