"""The mypy plugin of ``odm``: class-level field expressions, typed by the field's value.

Enable it with one line in the mypy configuration (``mypy.ini``, ``setup.cfg`` or the
``[tool.mypy]`` table of ``pyproject.toml``)::

    [mypy]
    plugins = odm.mypy

With it, for ``class Post(AsyncDocument)`` with ``views: int`` and
``title: Annotated[str, Text(fields={"raw": Keyword()})]``:

- ``Post.views`` is ``FieldExpr[int]`` (``post.views`` stays ``int``), so
  ``Post.views > "ten"`` is an error and ``Post.nonexistent`` stays one;
- ``Post.author.name`` is checked against the fields of ``Author``, and ``Post.title.raw``
  against the multi-fields declared in the ``Annotated`` metadata, which mypy itself
  discards: the plugin reads them from the class's source.

The design is explained in ``docs/typed-queries-design.md``.
"""

from __future__ import annotations

import ast
import copy
import os
from collections.abc import Callable, Iterator
from functools import lru_cache, partial

from mypy.errorcodes import ATTR_DEFINED, OPERATOR
from mypy.expandtype import expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.messages import format_type
from mypy.nodes import MypyFile, SymbolTableNode, TypeAlias, TypeInfo, Var
from mypy.plugin import AttributeContext, CheckerPluginInterface, ClassDefContext, MethodContext, MethodSigContext, Plugin
from mypy.typeops import make_simplified_union
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    FunctionLike,
    Instance,
    LiteralType,
    NoneType,
    TupleType,
    Type,
    TypeOfAny,
    TypeType,
    UnionType,
    get_proper_type,
)

__all__ = ["OdmPlugin", "plugin"]

DOCUMENT = "odm.document.AsyncDocument"
FIELD_EXPR = "odm.expressions.FieldExpr"
META = "odm.meta.Meta"
BASE_MODEL = "pydantic.main.BaseModel"
METADATA_KEY = "odm"

# Keys of FieldExpr's ``extra_attrs`` that are not identifiers, so no attribute can clash.
LABEL = "<label>"
ANY_SUBFIELD = "<any sub-field>"

_SEQUENCES = frozenset(
    {
        "builtins.list",
        "builtins.set",
        "builtins.frozenset",
        "builtins.tuple",
        "typing.Sequence",
        "typing.MutableSequence",
        "typing.AbstractSet",
        "typing.MutableSet",
        "typing.Collection",
        "typing.Iterable",
    }
)
_MAPPINGS = frozenset({"builtins.dict", "typing.Mapping", "typing.MutableMapping"})
_EQUALITY = {"__eq__": "==", "__ne__": "!="}
_COMPARISONS = frozenset({"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "between", "in_", "match"})
_MAX_ALIAS_DEPTH = 5
#: What :func:`_alias_source` gives for a type alias whose source it cannot read.
_UNREADABLE = ast.Name(id="<unreadable alias>")


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls for ``plugins = odm.mypy``."""
    return OdmPlugin


class OdmPlugin(Plugin):
    """Types ``Post.views`` as ``FieldExpr[int]`` and checks paths below it."""

    def get_customize_class_mro_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        # Runs during semantic analysis of every class; the callback keeps pydantic models.
        # Storing the multi-fields in the class's metadata puts them in mypy's cache and in
        # the module's interface, so editing them re-checks the modules that use them.
        return _record_subfields

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        # ``fullname`` names the class that declares the field, maybe a plain model mixed
        # into a document; the callback checks the class it is read on.
        owner, _, name = fullname.rpartition(".")
        info = self._class_info(owner)
        if info is not None and _model_field(info, name) is not None:
            return partial(self._class_field, info, name)
        return None

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner, _, name = fullname.rpartition(".")
        if owner == FIELD_EXPR and not name.startswith("_"):
            return partial(_path_attribute, name)
        if name == "meta":
            info = self._class_info(owner)
            if info is not None and info.has_base(DOCUMENT):
                return self._meta_read
        return None

    def _meta_read(self, ctx: AttributeContext) -> Type:
        # ``doc.meta`` reads a Meta. pydantic's plugin types the field by what assignment
        # takes (``Meta | Mapping[str, Any]``, the descriptor's __set__), which would make
        # every ``doc.meta.id`` an error when both plugins are on: a read is narrowed to Meta.
        # A model's own ``meta: Meta`` field (a response model) is already Meta; left alone.
        meta = self._class_info(META)
        attr = get_proper_type(ctx.default_attr_type)
        if ctx.is_lvalue or meta is None or not isinstance(attr, UnionType):
            return ctx.default_attr_type
        items = [get_proper_type(item) for item in attr.items]
        if any(isinstance(item, Instance) and item.type is meta for item in items):
            return Instance(meta, [])
        return ctx.default_attr_type

    def get_method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        owner, _, method = fullname.rpartition(".")
        if owner == FIELD_EXPR and method in _COMPARISONS:
            return _lax_values
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        owner, _, method = fullname.rpartition(".")
        if owner == FIELD_EXPR:
            return partial(_compare_object, method) if method in _COMPARISONS else None
        if method in _EQUALITY:
            return partial(_equality_with_expression, _EQUALITY[method])
        return None

    def _class_field(self, info: TypeInfo, name: str, ctx: AttributeContext) -> Type:
        var = _model_field(info, name)
        receiver = _class_of(ctx.type)
        expr_info = self._class_info(FIELD_EXPR)
        if ctx.is_lvalue or var is None or var.type is None or expr_info is None:
            return ctx.default_attr_type
        if receiver is None or not receiver.has_base(DOCUMENT):
            return ctx.default_attr_type  # a plain pydantic model keeps mypy's view
        return _Paths(ctx.api, expr_info).field(var, var.type, f"{receiver.name}.{name}")

    def _class_info(self, fullname: str) -> TypeInfo | None:
        symbol = self.lookup_fully_qualified(fullname)
        return symbol.node if symbol is not None and isinstance(symbol.node, TypeInfo) else None


# -- class level: Post.views -----------------------------------------------------------


def _class_of(receiver: Type) -> TypeInfo | None:
    """The class in ``Post.views``, ``cls.views`` (``type[Post]``)."""
    proper = get_proper_type(receiver)
    if isinstance(proper, CallableType) and proper.is_type_obj():
        return proper.type_object()
    if isinstance(proper, TypeType):
        item = get_proper_type(proper.item)
        return item.type if isinstance(item, Instance) else None
    return None


def _model_field(info: TypeInfo, name: str) -> Var | None:
    """The pydantic field ``name`` declared on ``info`` or a base (``AsyncDocument.meta`` is not one)."""
    symbol = info.get(name)
    node = symbol.node if symbol is not None else None
    if (
        not isinstance(node, Var)
        or node.info.fullname == DOCUMENT
        or not node.info.has_base(BASE_MODEL)
        or node.is_classvar
        or node.is_inferred
        or node.type is None
        or name.startswith("_")
        or name == "model_config"
    ):
        return None
    return node


class _Paths:
    """Builds ``FieldExpr[<one value>]`` types that carry their label and multi-fields."""

    def __init__(self, api: CheckerPluginInterface, expr_info: TypeInfo) -> None:
        self.api = api
        self.expr_info = expr_info

    def field(self, var: Var, declared: Type, label: str) -> Instance:
        """The expression of a model field, with the multi-fields its annotation declares."""
        value = _one_value(declared)
        subfields = var.info.metadata.get(METADATA_KEY, {}).get("subfields", {}).get(var.name)
        attrs: dict[str, Type] = {LABEL: self.label(label)}
        if subfields is None:  # not declared literally: any name is accepted, checked at run time
            attrs[ANY_SUBFIELD] = self.expr(value, f"{label}.<sub-field>")
        else:
            attrs.update({sub: self.expr(value, f"{label}.{sub}") for sub in subfields})
        return self.expr(value, label, attrs)

    def expr(self, value: Type, label: str, attrs: dict[str, Type] | None = None) -> Instance:
        attrs = attrs or {LABEL: self.label(label)}
        return Instance(self.expr_info, [value], extra_attrs=ExtraAttrs(attrs, set(attrs)))

    def label(self, label: str) -> LiteralType:
        return LiteralType(label, self.api.named_generic_type("builtins.str", []))


def _label(expr: Instance) -> str:
    """``Post.author.name``: how an expression type is named in messages."""
    label = expr.extra_attrs.attrs.get(LABEL) if expr.extra_attrs is not None else None
    return str(label.value) if isinstance(label, LiteralType) else f"FieldExpr[{expr.args[0]}]"


def _is_model(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and proper.type.has_base(BASE_MODEL)


def _one_value(declared: Type) -> Type:
    """The type of one value: ``Optional`` dropped, lists, sets and tuples unwrapped."""
    typ = get_proper_type(declared)
    if isinstance(typ, UnionType):
        members = [m for m in typ.items if not isinstance(get_proper_type(m), NoneType)]
        return _one_value(members[0]) if len(members) == 1 else UnionType.make_union(members)
    if isinstance(typ, TupleType):
        return _one_value(typ.partial_fallback)
    if isinstance(typ, Instance) and typ.type.fullname in _SEQUENCES and typ.args:
        return _one_value(typ.args[0])
    return declared


# -- below a field: Post.author.name, Post.title.raw -----------------------------------


def _path_attribute(name: str, ctx: AttributeContext) -> Type:
    expr = get_proper_type(ctx.type)
    if not isinstance(expr, Instance) or expr.type.fullname != FIELD_EXPR:
        return ctx.default_attr_type
    attrs = expr.extra_attrs.attrs if expr.extra_attrs is not None else {}
    if name in attrs:
        return attrs[name]
    label = _label(expr)
    value = get_proper_type(expr.args[0])
    if isinstance(value, AnyType):
        return ctx.default_attr_type
    if isinstance(value, Instance) and _is_model(value):
        var = _model_field(value.type, name)
        if var is not None and var.type is not None:
            declared = expand_type_by_instance(var.type, map_instance_to_supertype(value, var.info))
            return _Paths(ctx.api, expr.type).field(var, declared, f"{label}.{name}")
    elif isinstance(value, Instance) and value.type.fullname in _MAPPINGS and len(value.args) == 2:
        return _Paths(ctx.api, expr.type).expr(_one_value(value.args[1]), f"{label}.{name}")
    elif ANY_SUBFIELD in attrs:
        return attrs[ANY_SUBFIELD]
    ctx.api.fail(f'{label} has no field or sub-field "{name}"', ctx.context, code=ATTR_DEFINED)
    return AnyType(TypeOfAny.from_error)


# What pydantic's lax mode takes for a field of these types, beside the type itself: a
# query value is validated as the model validates (odm/expressions.py, ``_dump``).
_LAX: dict[str, tuple[str, ...]] = {
    "decimal.Decimal": ("builtins.int", "builtins.float", "builtins.str"),
    "datetime.datetime": ("builtins.str",),
    "datetime.date": ("builtins.str",),
    "uuid.UUID": ("builtins.str",),
}


def _lax_values(ctx: MethodSigContext) -> FunctionLike:
    """Widen the value parameters of ``FieldExpr[T]`` comparisons to what the model takes for ``T``.

    ``Product.price >= 10`` (a ``Decimal`` field) and ``Product.status == "live"`` (a str
    enum) validate at run time as ``Product(price=10, status="live")`` does.
    """
    expr = get_proper_type(ctx.type)
    signature = ctx.default_signature
    if not isinstance(expr, Instance) or not expr.args:
        return signature
    value = get_proper_type(expr.args[0])
    if not isinstance(value, Instance):
        return signature
    extra = [ctx.api.named_generic_type(name, []) for name in _LAX.get(value.type.fullname, ())]
    if value.type.is_enum:
        extra += [base for base in value.type.bases if base.type.fullname in ("builtins.str", "builtins.int")]
    if not extra:
        return signature
    widened = make_simplified_union([value, *extra])
    return signature.copy_modified(arg_types=[_replace(arg, value, widened) for arg in signature.arg_types])


def _replace(typ: Type, old: Instance, new: Type) -> Type:
    """``typ`` with ``old`` replaced by ``new`` at the top, in a union, or as an iterable's item."""
    proper = get_proper_type(typ)
    if isinstance(proper, Instance) and proper == old:
        return new
    if isinstance(proper, UnionType):
        return make_simplified_union([_replace(item, old, new) for item in proper.items])
    if isinstance(proper, Instance) and proper.args:
        return proper.copy_modified(args=[_replace(arg, old, new) for arg in proper.args])
    return typ


def _compare_object(method: str, ctx: MethodContext) -> Type:
    """Refuse ``Post.author == ...`` and the like: an object has no value to compare.

    ``Post.author == None`` (no author) is fine.
    """
    expr = get_proper_type(ctx.type)
    with_none = method in _EQUALITY and all(isinstance(get_proper_type(t), NoneType) for a in ctx.arg_types for t in a)
    if isinstance(expr, Instance) and _is_model(expr.args[0]) and not with_none:
        ctx.api.fail(f"{_label(expr)} is an object: compare one of its fields", ctx.context, code=OPERATOR)
    return ctx.default_return_type


def _equality_with_expression(operator: str, ctx: MethodContext) -> Type:
    """Refuse ``object.__eq__(<FieldExpr>)``, so ``Post.tags == 3`` is an error.

    mypy checks ``a == b`` as ``a.__eq__(b)`` and, when that fails, as the reflected
    ``b.__eq__(a)``, which every class inherits from ``object`` taking ``object``. Failing
    the reflected call leaves the error of ``FieldExpr.__eq__``, whose argument is typed.
    ``"python" == Post.tags`` still works: the reflected call is ``FieldExpr.__eq__``.
    """
    for types in ctx.arg_types:
        for typ in types:
            proper = get_proper_type(typ)
            if isinstance(proper, Instance) and proper.type.fullname == FIELD_EXPR:
                left, right = format_type(ctx.type, ctx.api.options), format_type(proper, ctx.api.options)
                ctx.api.fail(f"Unsupported operand types for {operator} ({left} and {right})", ctx.context, code=OPERATOR)
                return AnyType(TypeOfAny.from_error)
    return ctx.default_return_type


# -- multi-fields, read from the source of the class -------------------------------------


def _record_subfields(ctx: ClassDefContext) -> None:
    info = ctx.cls.info
    if not info.has_base(BASE_MODEL):
        return
    module = ctx.api.modules.get(info.module_name)
    tree = _parse(module.path) if module is not None else None
    classdef = _find_class(tree, ctx.cls.name, ctx.cls.line) if tree is not None else None
    if classdef is None:
        return
    declared: dict[str, list[str] | None] = {}
    for statement in classdef.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names = _subfields_in(statement.annotation, partial(_alias_source, ctx), 0)
            declared[statement.target.id] = sorted(names) if names is not None else None
    info.metadata[METADATA_KEY] = {"subfields": declared}


def _subfields_in(annotation: ast.expr, alias_source: Callable[[str], ast.expr | None], depth: int) -> set[str] | None:
    """Names in ``fields={...}`` of the calls in an annotation; ``None`` when not literal."""
    annotation = _ForwardReferences().visit(copy.deepcopy(annotation))
    found: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg is None:
                    return None
                if keyword.arg == "fields":
                    keys = _literal_keys(keyword.value)
                    if keys is None:
                        return None
                    found |= keys
    for name in _type_names(annotation):
        target = alias_source(name)
        if target is _UNREADABLE:
            return None
        if target is not None:  # a type alias: its own annotation may declare multi-fields
            inner = _subfields_in(target, alias_source, depth + 1) if depth < _MAX_ALIAS_DEPTH else None
            if inner is None:
                return None
            found |= inner
    return found


class _ForwardReferences(ast.NodeTransformer):
    """Parse quoted annotations (``"list[RawText]"``) outside calls into expressions."""

    def visit_Call(self, node: ast.Call) -> ast.Call:
        return node  # the arguments of a field class are values, not types

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if not isinstance(node.value, str):
            return node
        try:
            parsed: ast.AST = self.visit(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return node
        return parsed


def _literal_keys(value: ast.expr) -> set[str] | None:
    if not isinstance(value, ast.Dict):
        return None
    keys = [k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return set(keys) if len(keys) == len(value.keys) else None


def _type_names(annotation: ast.expr) -> Iterator[str]:
    """Dotted names used as types in an annotation (not the callee of a call)."""
    callees = {id(node.func) for node in ast.walk(annotation) if isinstance(node, ast.Call)}
    for node in ast.walk(annotation):
        if id(node) in callees or isinstance(node, ast.Call):
            continue
        dotted = _dotted(node)
        if dotted is not None:
            yield dotted


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _alias_source(ctx: ClassDefContext, name: str) -> ast.expr | None:
    """The right-hand side of the type alias ``name``; ``None`` if it is no alias.

    Aliases in stubs (``typing.List``) carry no run-time metadata; an alias whose source
    cannot be read is :data:`_UNREADABLE`.
    """
    symbol: SymbolTableNode | None = ctx.api.lookup_qualified(name, ctx.cls, suppress_errors=True)
    alias = symbol.node if symbol is not None else None
    if not isinstance(alias, TypeAlias):
        return None
    module: MypyFile | None = ctx.api.modules.get(alias.module)
    if module is not None and module.path.endswith(".pyi"):
        return None
    tree = _parse(module.path) if module is not None else None
    for statement in ast.walk(tree) if tree is not None else ():
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.lineno == alias.line:
            return statement.value or _UNREADABLE
    return _UNREADABLE


def _find_class(tree: ast.Module, name: str, line: int) -> ast.ClassDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            if line in (node.lineno, *(decorator.lineno for decorator in node.decorator_list)):
                return node
    return None


def _parse(path: str) -> ast.Module | None:
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:  # no file: code given with -c, or a module mypy did not read from disk
        return None
    return _parse_file(path, stamp)


@lru_cache(maxsize=256)
def _parse_file(path: str, stamp: int) -> ast.Module | None:
    if not path.endswith(".py"):
        return None
    with open(path, encoding="utf-8") as source:
        try:
            return ast.parse(source.read(), path)
        except SyntaxError:
            return None
