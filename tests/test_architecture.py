"""The shape of the package: no import cycles anywhere in bot/ (imports inside functions included), and the core
never imports an adapter."""
import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
ADAPTERS = ("bot.discord", "bot.cli", "bot.console")


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Imports under `if TYPE_CHECKING:` never run; they name types for readers and checkers."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every bot module `path` imports, at module level or inside a function."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [base]).strip(".")
            # `from bot.x import y` imports bot.x, and bot.x.y when y is a module
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        found |= {n for n in names if n in modules}
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in BOT.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting, done = [], set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return visiting[visiting.index(node):] + [node]
        if node in done:
            return None
        visiting.append(node)
        for nxt in sorted(graph[node]):
            cycle = visit(nxt)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_the_walker_sees_a_cycle_hidden_inside_a_function():
    graph = {"bot.a": {"bot.b"}, "bot.b": {"bot.a"}, "bot.c": set()}
    assert find_cycle(graph) == ["bot.a", "bot.b", "bot.a"]
    source = "def f():\n    from bot.a import g\n"
    path = BOT / "_probe_for_test.py"
    path.write_text(source)
    try:
        assert imports_of(path, {"bot.a"}) == {"bot.a"}
    finally:
        path.unlink()


def test_no_import_cycle_in_bot():
    assert find_cycle(import_graph()) is None


def test_the_core_never_imports_an_adapter():
    graph = import_graph()
    core_modules = [m for m in graph if not m.startswith(ADAPTERS) and m != "bot"]
    offenders = {m: sorted(i for i in graph[m] if i.startswith(ADAPTERS)) for m in core_modules}
    assert {m: i for m, i in offenders.items() if i} == {}
