"""The editor's canvas comes first (issue 16): its share of a laptop screen, the collapsible palette, pane, drawer
and minimap, a one-line toolbar, the layout (fit on open, tidy-up, placement after a node, stable positions),
edges that move only on a live run's path, and the keyboard on the palette and the canvas."""

from __future__ import annotations

import re

import pytest

from tests.support.studio import open_flow

pytestmark = pytest.mark.slow

LAPTOP = {"width": 1280, "height": 720}

SEQUENCE = """\
# Keep this comment.
id: {flow}
namespace: studio.tests
tasks:
  - id: first
    type: log
    message: one   # and this one
  - id: second
    type: log
    message: two
  - id: third
    type: log
    message: three
"""


def chain(flow: str, count: int) -> str:
    lines = [f"id: {flow}", "namespace: studio.tests", "tasks:"]
    for index in range(count):
        depends = f"[t{index - 1}, t{index // 2}]" if index > 1 else "[]"
        lines += [f"  - id: t{index}", "    type: log", f"    dependsOn: {depends}", f"    message: step {index}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def laptop(page):
    page.set_viewport_size(LAPTOP)
    return page


def yaml_text(page) -> str:
    return page.locator("#yaml-editor .cm-content").inner_text()


def node_position(page, task_id: str) -> tuple[float, float]:
    """Where React Flow put a node, in flow coordinates (its transform), whatever the zoom and pan."""
    transform = page.locator(f".react-flow__node[data-id='{task_id}']").evaluate("n => n.style.transform")
    x, y = re.findall(r"-?[\d.]+", transform)[:2]
    return float(x), float(y)


def settled_box(page, selector: str) -> dict:
    """The element's box once it stopped moving (the same at two looks 200 ms apart)."""
    box = page.locator(selector).bounding_box()
    for _ in range(50):
        page.wait_for_timeout(200)
        again = page.locator(selector).bounding_box()
        if again == box:
            return box
        box = again
    raise AssertionError(f"{selector} kept moving")


def width_share(page) -> float:
    return page.evaluate("document.querySelector('#canvas').getBoundingClientRect().width / window.innerWidth")


def test_the_canvas_gets_most_of_a_laptop_screen_and_the_toolbar_one_line(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="roomy"), "roomy")
    assert width_share(laptop) >= 0.55
    toolbar = laptop.locator("#editor-toolbar").bounding_box()
    assert toolbar["height"] < 48  # one line of buttons
    tops = {round(laptop.locator(f"#{b}").bounding_box()["y"]) for b in ("run-button", "save-button", "more-menu")}
    assert len(tops) == 1
    assert laptop.locator("#run-button").bounding_box()["x"] + 40 <= LAPTOP["width"]
    # the secondary actions are in the menu, under their old ids
    laptop.click("#more-menu")
    laptop.locator("#history-button").wait_for(timeout=10_000)
    assert laptop.locator("#flow-settings-button").is_visible()
    assert "/executions?namespace=studio.tests&flow=roomy" in laptop.locator("#runs-link").get_attribute("href")
    laptop.keyboard.press("Escape")
    # the app's navigation is a column of icons here; it can be opened again (and is remembered)
    assert laptop.locator("#app-sidebar").bounding_box()["width"] < 70
    laptop.click("#sidebar-toggle")
    laptop.wait_for_function("document.querySelector('#app-sidebar').getBoundingClientRect().width > 150")
    laptop.reload()
    laptop.locator(".lanner-node").first.wait_for(timeout=60_000)
    assert laptop.locator("#app-sidebar").bounding_box()["width"] > 150
    laptop.click("#sidebar-toggle")
    laptop.wait_for_function("document.querySelector('#app-sidebar').getBoundingClientRect().width < 70")


def test_the_palette_collapses_to_icons_and_is_remembered(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="palette_fold"), "palette_fold")
    before = width_share(laptop)
    laptop.click("#palette-toggle")
    laptop.wait_for_function("document.querySelector('#palette').getBoundingClientRect().width < 70")
    item = laptop.locator(".palette-item[data-type='log']")
    assert item.inner_text().strip() == "" and item.locator("svg").count() == 1  # the icon only
    assert "Log" in item.get_attribute("aria-label")
    assert width_share(laptop) > before + 0.05
    laptop.reload()
    laptop.locator(".lanner-node").first.wait_for(timeout=60_000)
    assert laptop.locator("#palette").bounding_box()["width"] < 70
    laptop.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": 40, "y": 40})
    laptop.wait_for_function("document.querySelectorAll('.lanner-node').length === 4", timeout=10_000)
    laptop.click("#palette-toggle")
    laptop.wait_for_function("document.querySelector('#palette').getBoundingClientRect().width > 150")


def test_the_yaml_pane_resizes_and_hides(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="pane_fold"), "pane_fold")
    pane = laptop.locator("#yaml-pane").bounding_box()["width"]
    handle = laptop.locator("#pane-splitter").bounding_box()
    laptop.mouse.move(handle["x"] + 3, handle["y"] + 40)
    laptop.mouse.down()
    laptop.mouse.move(handle["x"] - 100, handle["y"] + 40, steps=5)
    laptop.mouse.up()
    assert abs(laptop.locator("#yaml-pane").bounding_box()["width"] - pane - 103) < 15
    shared = width_share(laptop)
    laptop.click("#pane-hidden")
    laptop.wait_for_function("document.querySelector('#yaml-pane') === null", timeout=10_000)
    assert width_share(laptop) > shared + 0.2
    laptop.click("#pane-yaml")
    laptop.locator("#yaml-pane").wait_for(timeout=10_000)


def test_the_minimap_is_small_folds_and_never_refuses_a_drop(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="minimap"), "minimap")
    minimap = laptop.locator(".react-flow__minimap").bounding_box()
    assert minimap["width"] <= 160 and minimap["height"] <= 110
    laptop.drag_and_drop(".palette-item[data-type='log']", ".react-flow__minimap", force=True)
    laptop.wait_for_function("document.querySelectorAll('.lanner-node').length === 4", timeout=10_000)
    laptop.click("#minimap-toggle")
    laptop.wait_for_function("document.querySelector('.react-flow__minimap') === null", timeout=10_000)
    laptop.reload()
    laptop.locator(".lanner-node").first.wait_for(timeout=60_000)
    laptop.wait_for_timeout(500)
    assert laptop.locator(".react-flow__minimap").count() == 0  # remembered
    laptop.click("#minimap-toggle")
    laptop.locator(".react-flow__minimap").wait_for(timeout=10_000)


def test_a_drop_under_the_selected_node_runs_after_it(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="placed"), "placed")
    laptop.locator(".react-flow__node[data-id='third']").click()
    box = laptop.locator(".react-flow__node[data-id='third']").bounding_box()
    canvas = laptop.locator(".react-flow__pane").bounding_box()
    target = {"x": box["x"] - canvas["x"] + box["width"] / 2, "y": box["y"] - canvas["y"] + box["height"] + 30}
    laptop.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position=target, force=True)
    laptop.wait_for_function("document.querySelectorAll('.lanner-node').length === 4", timeout=10_000)
    text = yaml_text(laptop)
    assert "  - id: log_1\n    type: log\n    dependsOn: [third]\n" in text
    assert "# Keep this comment." in text and "message: one   # and this one" in text
    third, added = node_position(laptop, "third"), node_position(laptop, "log_1")
    assert added[1] > third[1] + 50 and abs(added[0] - third[0]) < 250  # one row under it
    assert laptop.locator(".react-flow__edge[data-id='third->log_1']").count() == 1


def test_a_group_s_children_are_laid_out_under_it(studio, laptop):
    flow = (
        "id: grouped_layout\nnamespace: studio.tests\ntasks:\n  - {id: before, type: log, message: m}\n"
        "  - id: fan\n    type: parallel\n    tasks:\n      - {id: one, type: log, message: m}\n"
        "      - {id: two, type: log, message: m}\n  - {id: after, type: log, message: m}\n"
    )
    open_flow(studio, laptop, flow, "grouped_layout")
    fan = node_position(laptop, "fan")
    for child in ("one", "two"):
        x, y = node_position(laptop, child)
        assert y > fan[1] and abs(x - fan[0]) < 300


def test_a_200_task_flow_opens_fitted_in_view(studio, laptop):
    open_flow(studio, laptop, chain("two_hundred", 200), "two_hundred")
    laptop.wait_for_timeout(800)
    canvas = laptop.locator("#canvas").bounding_box()
    for task_id in ("t0", "t100", "t199"):
        node = laptop.locator(f".react-flow__node[data-id='{task_id}']")
        node.wait_for(timeout=10_000)
        box = node.bounding_box()
        assert canvas["y"] - 1 <= box["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"] + 1
        assert canvas["x"] - 1 <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"] + 1
    # no edge moves while no run is live (hundreds of animated edges took the page down to 5 frames a second)
    assert laptop.locator(".react-flow__edge").count() > 0
    assert laptop.locator(".react-flow__edge.animated").count() == 0


def test_positions_stay_across_reloads_and_tidy_up_lays_out_again(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="stable"), "stable")
    laid_out = {task_id: node_position(laptop, task_id) for task_id in ("first", "second", "third")}
    laptop.reload()
    laptop.locator(".lanner-node").first.wait_for(timeout=60_000)
    assert {task_id: node_position(laptop, task_id) for task_id in laid_out} == laid_out
    box = laptop.locator(".react-flow__node[data-id='second']").bounding_box()
    laptop.mouse.move(box["x"] + 20, box["y"] + 10)
    laptop.mouse.down()
    laptop.mouse.move(box["x"] + 120, box["y"] + 40, steps=8)
    laptop.mouse.up()
    moved = node_position(laptop, "second")
    assert moved != laid_out["second"]
    laptop.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": 40, "y": 40})
    laptop.wait_for_function("document.querySelectorAll('.lanner-node').length === 4", timeout=10_000)
    dropped = node_position(laptop, "log_1")
    laptop.reload()  # unsaved: the drop is gone with the reload, the drag is remembered
    laptop.locator(".lanner-node").first.wait_for(timeout=60_000)
    assert node_position(laptop, "second") == pytest.approx(moved, abs=1)
    assert node_position(laptop, "first") == pytest.approx(laid_out["first"], abs=1)
    assert dropped  # it had its drop position while shown
    laptop.click("#tidy-button")
    x, y = laid_out["second"]
    laptop.wait_for_function(
        "([x, y]) => { const t = document.querySelector(\".react-flow__node[data-id='second']\").style.transform;"
        " const [a, b] = t.match(/-?[\\d.]+/g).map(Number); return Math.abs(a - x) < 1 && Math.abs(b - y) < 1; }",
        arg=[x, y],
        timeout=10_000,
    )
    assert laptop.evaluate("window.localStorage.getItem('lanner.positions.studio.tests/stable')") is None


def test_only_the_edge_into_the_running_task_moves(studio, laptop):
    flow = (
        "id: live_edges\nnamespace: studio.tests\ntasks:\n  - {id: hello, type: log, message: hi}\n"
        "  - {id: nap, type: sleep, duration: 60s}\n  - {id: later, type: log, message: bye}\n"
    )
    open_flow(studio, laptop, flow, "live_edges")
    assert laptop.locator(".react-flow__edge.animated").count() == 0
    laptop.click("#run-button")
    laptop.click("#start-run")
    laptop.wait_for_function("document.querySelector('.lanner-node[data-state=\"RUNNING\"]') !== null", timeout=30_000)
    laptop.wait_for_function("document.querySelectorAll('.react-flow__edge.animated').length === 1", timeout=10_000)
    assert laptop.locator(".react-flow__edge.animated").get_attribute("data-id") == "hello->nap"
    # the logs are a bottom drawer under the canvas: resizable, foldable
    drawer = laptop.locator("#log-drawer")
    drawer.wait_for(timeout=10_000)
    assert laptop.locator("#canvas").bounding_box()["y"] + laptop.locator("#canvas").bounding_box()["height"] <= (
        drawer.bounding_box()["y"] + 1
    )
    handle = settled_box(laptop, "#drawer-splitter")  # the drawer has just opened: grab it where it stays
    body = laptop.locator("#log-drawer-body").bounding_box()["height"]
    laptop.mouse.move(handle["x"] + 50, handle["y"] + 3)
    laptop.mouse.down()
    laptop.mouse.move(handle["x"] + 50, handle["y"] - 60, steps=5)
    laptop.mouse.up()
    laptop.wait_for_function(  # 60 px more (and the 3 px React Flow ignores), once the page has drawn it
        "h => Math.abs(document.querySelector('#log-drawer-body').getBoundingClientRect().height - h) < 10",
        arg=body + 63,
        timeout=10_000,
    )
    canvas_height = laptop.locator("#canvas").bounding_box()["height"]
    laptop.click("#drawer-toggle")
    laptop.wait_for_function("!document.querySelector('#log-drawer-body').checkVisibility()", timeout=10_000)
    assert laptop.locator("#canvas").bounding_box()["height"] > canvas_height + 100
    laptop.click("#drawer-toggle")
    laptop.locator("#log-drawer-body").wait_for(state="visible", timeout=10_000)
    laptop.click("#kill-button")
    laptop.wait_for_function(
        "(document.querySelector('#execution-state')?.innerText ?? '') === 'KILLED'", timeout=15_000
    )
    laptop.wait_for_function("document.querySelectorAll('.react-flow__edge.animated').length === 0", timeout=10_000)


def test_the_keyboard_adds_from_the_palette_after_the_selected_node(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="keyboard_add"), "keyboard_add")
    laptop.locator(".react-flow__node[data-id='second']").click()
    laptop.locator("#palette-search").focus()
    for _ in range(10):  # Tab reaches the palette's items
        laptop.keyboard.press("Tab")
        if laptop.evaluate("document.activeElement.classList.contains('palette-item')"):
            break
    assert laptop.evaluate("document.activeElement.classList.contains('palette-item')")
    laptop.locator(".palette-item[data-type='log']").focus()
    laptop.keyboard.press("Enter")
    laptop.wait_for_function("document.querySelectorAll('.lanner-node').length === 4", timeout=10_000)
    laptop.keyboard.press("Enter")  # the new one is selected: the next follows it
    laptop.wait_for_function("document.querySelectorAll('.lanner-node').length === 5", timeout=10_000)
    text = yaml_text(laptop)
    assert "  - id: log_1\n    type: log\n    dependsOn: [second]\n" in text
    assert "  - id: log_2\n    type: log\n    dependsOn: [log_1]\n" in text
    assert "message: one   # and this one" in text
    second, added = node_position(laptop, "second"), node_position(laptop, "log_1")
    assert added[1] > second[1]


def test_the_keyboard_moves_between_nodes_and_opens_the_form(studio, laptop):
    open_flow(studio, laptop, SEQUENCE.format(flow="keyboard_move"), "keyboard_move")
    laptop.click("#pane-yaml")
    laptop.locator("#palette-search").focus()
    for _ in range(80):  # past the palette's items, into the canvas
        laptop.keyboard.press("Tab")
        if laptop.evaluate("document.activeElement.classList.contains('react-flow__node')"):
            break
    assert laptop.evaluate("document.activeElement.dataset.id") == "first"
    laptop.locator("#form-panel").get_by_text("Task first").wait_for(timeout=10_000)  # focused is selected
    laptop.keyboard.press("ArrowDown")
    laptop.wait_for_function("document.activeElement.dataset.id === 'second'", timeout=10_000)
    laptop.locator("#form-panel").get_by_text("Task second").wait_for(timeout=10_000)
    laptop.keyboard.press("Enter")  # its form, alone in the pane
    laptop.wait_for_function("document.querySelector('#yaml-editor') === null", timeout=10_000)
    assert laptop.locator("#form-panel").get_by_text("Task second").is_visible()
    laptop.keyboard.press("ArrowUp")
    laptop.wait_for_function("document.activeElement.dataset.id === 'first'", timeout=10_000)
