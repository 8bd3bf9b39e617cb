# SPDX-License-Identifier: BSD-3-Clause
"""Turn a pycalc record's CALC into a function of its inputs A..J, once per CALC text.

The IOC calls :func:`compile_calc` when a pycalc record starts and whenever its CALC has
changed since the last compilation.  CALC is Python code in which ``A`` .. ``J`` are the
values of the inputs INPA..INPJ (numbers or ``str`` as FTA..FTJ say; ``list`` when MEA..MEJ
is more than 1).  The inputs are the function's parameters: their values reach the code as
Python values and are never spliced into source.  As for a link, the value of a final
expression is the result, statements alone give ``None`` (nothing stored), and names CALC
assigns at its top level are globals of the namespace every link shares.

Unlike a link's field macros, ``A`` .. ``J`` inside a string literal stay text: ``'A'`` is
the letter A.  Other fields of the record are not macros.
"""
from __future__ import annotations

import ast
import itertools
from typing import Callable

from .snippet import Link, _recursion_room, _top_level_bindings

__all__ = ["INPUTS", "compile_calc"]

INPUTS = tuple("ABCDEFGHIJ")
_CODE_RUNNERS = frozenset({"exec", "eval", "compile"})
_CUT = "_pydev_cut"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _inputs_used(tree: ast.AST) -> tuple[str, ...]:
    """The inputs CALC names, in the order of the alphabet."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in INPUTS}
    return tuple(name for name in INPUTS if name in names)


def _runs_input_code(tree: ast.AST) -> bool:
    """Whether an input's value reaches an argument of exec/eval/compile."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _CODE_RUNNERS):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                if any(isinstance(n, ast.Name) and n.id in INPUTS for n in ast.walk(argument)):
                    return True
    return False


class _CutReturns(ast.NodeTransformer):
    """Pass every value CALC returns (not those of functions it defines) through the cut."""

    def visit_Return(self, node: ast.Return) -> ast.AST:
        if node.value is not None:
            node.value = ast.Call(func=ast.Name(id=_CUT, ctx=ast.Load()), args=[node.value],
                                  keywords=[])
        return node

    def _leave(self, node: ast.AST) -> ast.AST:
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _leave


def _cutter(limit: int) -> Callable[[object], object]:
    """A function that cuts an array result to its first ``limit`` elements (MEVL)."""
    def cut(value: object) -> object:
        if isinstance(value, (str, bytes, bytearray)):
            return value
        if _iter_of(value) is value:  # an iterator (map, a generator): take what fits
            return list(itertools.islice(value, limit))  # type: ignore[call-overload]
        try:
            return value[:limit] if len(value) > limit else value  # type: ignore[index,arg-type]
        except TypeError:  # not an array (a dict, a number): the conversion says why
            return value
    return cut


def _iter_of(value: object) -> object:
    """``iter(value)``, or None when it is not iterable."""
    try:
        return iter(value)  # type: ignore[call-overload]
    except TypeError:
        return None


def compile_calc(text: str, record: str, namespace: dict, limit: int = 0) -> Link:
    """Compile ``text``, the CALC of pycalc ``record``, into a function of the inputs it uses.

    ``namespace`` is the shared global dictionary the code runs in.  When ``limit`` is more
    than 1 (MEVL) a longer array result is cut to its first ``limit`` elements.  Returns a
    :class:`~pydevice.snippet.Link` whose ``macros`` are the inputs used and whose
    ``runs_field_code`` says that an input's value reaches exec/eval/compile.  Raises
    SyntaxError (with ``record`` as the file name) when the text is not valid Python.
    """
    tree = ast.parse(text.strip(" \t"), filename=record, mode="exec")
    with _recursion_room(tree):
        return _compile_tree(tree, record, namespace, limit)


def _compile_tree(tree: ast.Module, record: str, namespace: dict, limit: int) -> Link:
    inputs = _inputs_used(tree)
    body = tree.body or [ast.Pass()]
    try:
        bindings = [n for n in _top_level_bindings(body) if n not in inputs]
    except SyntaxError as err:
        raise SyntaxError(f"{err.msg} ({record})") from None
    if isinstance(body[-1], ast.Expr):
        body[-1] = ast.copy_location(ast.Return(value=body[-1].value), body[-1])
    if limit > 1:
        body = [_CutReturns().visit(statement) for statement in body]
    if bindings:
        body.insert(0, ast.Global(names=bindings))
    calc = ast.FunctionDef(
        name="calc",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=name) for name in inputs],
                           vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=body, decorator_list=[], returns=None, type_comment=None)
    # the cut is a variable of an enclosing function, so CALC's globals stay the shared ones
    make = ast.FunctionDef(
        name="make",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=_CUT)], vararg=None,
                           kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[calc, ast.Return(value=ast.Name(id="calc", ctx=ast.Load()))],
        decorator_list=[], returns=None, type_comment=None)
    module = ast.fix_missing_locations(ast.Module(body=[make], type_ignores=[]))
    code = compile(module, record, "exec", dont_inherit=True)
    scope: dict = {}
    exec(code, namespace, scope)  # defines make() with `namespace` as its globals
    function = scope["make"](_cutter(limit))
    function.__code__ = function.__code__.replace(co_name=record)
    if hasattr(function.__code__, "co_qualname"):  # tracebacks show it from 3.11 on
        function.__code__ = function.__code__.replace(co_qualname=record)
    return Link(function, inputs, None, _runs_input_code(tree))
