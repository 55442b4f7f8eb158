"""Groups on the editor's canvas (issue 16): a flowable task is a box its tasks are drawn in (React Flow's sub
flows), nested groups nest their boxes, the layout sizes each box to its children, and that holds after a drag,
"Tidy up" and a reload; a task dropped onto a box goes into that group's list; deleting a box deletes its tasks;
a run colours the boxes by state. Every check reads the page's DOM (React Flow's node elements)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.support.studio import open_flow

pytestmark = pytest.mark.slow

BOXES = """\
id: {flow}
namespace: studio.tests
tasks:
  - {{id: before, type: log, message: m}}
  - id: fan
    type: parallel
    tasks:
      - {{id: one, type: log, message: m}}
      - {{id: two, type: log, message: m}}
      - id: inner
        type: sequential
        tasks:
          - {{id: deep, type: log, message: m}}
          - {{id: deeper, type: log, message: m}}
  - {{id: after, type: log, message: m}}
"""
# Each group's children, and the parent of each node inside a box.
CHILDREN = {"fan": ["one", "two", "inner"], "inner": ["deep", "deeper"]}
ALL = ["before", "fan", "one", "two", "inner", "deep", "deeper", "after"]


def box(page, node_id: str) -> dict:
    """A node's rectangle on the screen, as React Flow drew it."""
    return page.locator(f".react-flow__node[data-id='{node_id}']").evaluate(
        "n => { const r = n.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_boxes_hold_their_children(page) -> dict[str, dict]:
    boxes = {node_id: box(page, node_id) for node_id in ALL}
    for group, children in CHILDREN.items():
        for child in children:
            assert inside(boxes[child], boxes[group]), (child, group, boxes)
        for index, child in enumerate(children):  # siblings side by side, not on top of each other
            assert not any(overlap(boxes[child], boxes[other]) for other in children[index + 1 :]), (child, boxes)
    assert inside(boxes["deep"], boxes["fan"])  # the nested box nests its own children in the outer one
    for top in ("before", "after"):
        assert not overlap(boxes[top], boxes["fan"])
    return boxes


def offsets(page) -> dict[str, tuple[float, float]]:
    """Where each child sits in its group's box, in flow coordinates (React Flow's transform of a node is where it
    is in the flow), whatever the zoom and pan of the view."""
    at = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.react-flow__node')].map((n) =>"
        " [n.dataset.id, n.style.transform.match(/-?[\\d.]+/g).slice(0, 2).map(Number)]))"
    )
    parent = {child: group for group, children in CHILDREN.items() for child in children}
    return {child: (at[child][0] - at[group][0], at[child][1] - at[group][1]) for child, group in parent.items()}


def assert_close(found: dict[str, tuple[float, float]], expected: dict[str, tuple[float, float]]) -> None:
    """The same places, give or take the pixel a remembered position is rounded to."""
    assert found.keys() == expected.keys()
    assert all(abs(found[k][0] - expected[k][0]) <= 1 and abs(found[k][1] - expected[k][1]) <= 1 for k in found), (
        found,
        expected,
    )


def sizes(page) -> dict[str, tuple[int, int]]:
    """Each group box's size in flow coordinates (its layout size; the view's zoom scales it on the screen)."""
    return {
        group: page.locator(f".react-flow__node[data-id='{group}']").evaluate("n => [n.offsetWidth, n.offsetHeight]")
        for group in CHILDREN
    }


def edge_rect(page, edge_id: str) -> dict:
    return page.locator(f".react-flow__edge[data-id='{edge_id}'] path").first.evaluate(
        "p => { const r = p.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )


def yaml_text(page) -> str:
    return page.locator("#yaml-editor .cm-content").inner_text()


def task_ids(tasks: list[dict]) -> list[str]:
    return [task["id"] for task in tasks]


def reload(page) -> None:
    page.reload()
    page.locator(".react-flow__node[data-id='deeper']").wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # React Flow's fitView after the nodes are measured


def test_groups_are_boxes_holding_their_tasks_after_a_drag_a_tidy_up_and_a_reload(studio, page):
    open_flow(studio, page, BOXES.format(flow="boxes"), "boxes")
    page.locator(".react-flow__node[data-id='deeper']").wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    # a group is a box of its own kind, named with its type, its children drawn inside it (React Flow's parentId)
    assert page.locator(".react-flow__node[data-id='fan'] .lanner-group").count() == 1
    assert "Parallel" in page.locator(".react-flow__node[data-id='fan'] .lanner-group-header").inner_text()
    assert page.locator(".react-flow__node[data-id='one'] .lanner-group").count() == 0
    laid_out = assert_boxes_hold_their_children(page)
    # the box is wider and taller than a task: it holds a row of three (the nested box the tallest)
    assert laid_out["fan"]["width"] > 3 * laid_out["one"]["width"]
    assert laid_out["inner"]["height"] > 2 * laid_out["deep"]["height"]
    # the edge into a group's first tasks starts inside its box, under its header; the edge to what follows the
    # group leaves from the bottom of the box
    assert inside(edge_rect(page, "fan->one"), laid_out["fan"])
    assert edge_rect(page, "fan->after")["y"] >= laid_out["fan"]["y"] + laid_out["fan"]["height"] - 2

    laid_out_offsets, laid_out_sizes = offsets(page), sizes(page)

    # a child dragged within its box stays in it
    one = laid_out["one"]
    page.mouse.move(one["x"] + 30, one["y"] + 15)
    page.mouse.down()
    page.mouse.move(one["x"] + 40, one["y"] + 60, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    assert_boxes_hold_their_children(page)
    moved = offsets(page)
    assert moved["one"][1] > laid_out_offsets["one"][1] + 20
    assert moved["deep"] == laid_out_offsets["deep"]

    reload(page)  # positions are remembered, a child's relative to its box, and the boxes are the same size
    assert_boxes_hold_their_children(page)
    assert_close(offsets(page), moved)
    assert sizes(page) == laid_out_sizes

    # a child pushed past the bottom of its box grows the box (and the boxes around it), which stays grown
    two, fan = box(page, "two"), box(page, "fan")
    page.mouse.move(two["x"] + 30, two["y"] + 15)
    page.mouse.down()
    page.mouse.move(two["x"] + 30, fan["y"] + fan["height"] + 40, steps=10)
    page.mouse.up()
    page.wait_for_timeout(300)
    pushed = sizes(page)
    assert pushed["fan"][1] > laid_out_sizes["fan"][1] + 40 and pushed["inner"] == laid_out_sizes["inner"]
    assert inside(box(page, "two"), box(page, "fan"))
    reload(page)
    assert sizes(page) == pushed and inside(box(page, "two"), box(page, "fan"))

    page.click("#tidy-button")  # laid out again: the drags forgotten, every box fits its children
    x, y = laid_out_offsets["one"]
    page.wait_for_function(
        "([x, y]) => { const at = (id) => document.querySelector(`.react-flow__node[data-id='${id}']`)"
        ".style.transform.match(/-?[\\d.]+/g).map(Number);"
        " const [a, b] = at('one'), [c, d] = at('fan'); return Math.abs(a - c - x) < 1 && Math.abs(b - d - y) < 1; }",
        arg=[x, y],
        timeout=10_000,
    )
    page.wait_for_timeout(300)
    assert_boxes_hold_their_children(page)
    assert_close(offsets(page), laid_out_offsets)
    assert sizes(page) == laid_out_sizes

    reload(page)  # and the tidied drawing stays
    assert_boxes_hold_their_children(page)
    assert_close(offsets(page), laid_out_offsets)


def test_a_task_dropped_onto_a_box_joins_that_group(studio, page):
    open_flow(studio, page, BOXES.format(flow="box_drops"), "box_drops")
    page.locator(".react-flow__node[data-id='deeper']").wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    # onto the outer box's header: into the parallel's list
    page.drag_and_drop(
        ".palette-item[data-type='log']",
        ".react-flow__node[data-id='fan']",
        target_position={"x": 30, "y": 12},
        force=True,
    )
    page.locator(".react-flow__node[data-id='log_1']").wait_for(timeout=10_000)
    flow = yaml.safe_load(yaml_text(page))
    assert task_ids(flow["tasks"]) == ["before", "fan", "after"]
    assert task_ids(flow["tasks"][1]["tasks"]) == ["one", "two", "inner", "log_1"]
    # onto the nested box, between its tasks: into the sequential's list
    inner, deep = box(page, "inner"), box(page, "deep")
    page.drag_and_drop(
        ".palette-item[data-type='log']",
        ".react-flow__node[data-id='inner']",
        target_position={"x": inner["width"] - 8, "y": deep["y"] - inner["y"] + 10},
        force=True,
    )
    page.locator(".react-flow__node[data-id='log_2']").wait_for(timeout=10_000)
    flow = yaml.safe_load(yaml_text(page))
    assert task_ids(flow["tasks"][1]["tasks"][2]["tasks"]) == ["deep", "deeper", "log_2"]
    page.wait_for_timeout(300)
    boxes = assert_boxes_hold_their_children(page)
    assert inside(box(page, "log_1"), boxes["fan"]) and not inside(box(page, "log_1"), boxes["inner"])
    assert inside(box(page, "log_2"), boxes["inner"])

    # deleting a box deletes its tasks, in one edit and without a complaint about the children it took along
    page.locator(".react-flow__node[data-id='inner'] .lanner-group-header").click()
    page.wait_for_function(
        "document.querySelector(\".react-flow__node[data-id='inner']\").classList.contains('selected')"
    )
    page.keyboard.press("Delete")
    page.wait_for_function("!document.querySelector(\".react-flow__node[data-id='deep']\")", timeout=10_000)
    page.wait_for_function(
        "(t => t !== undefined && !t.includes('id: inner'))(document.querySelector('#yaml-editor .cm-content')?.innerText)",
        timeout=10_000,
    )
    flow = yaml.safe_load(yaml_text(page))  # the YAML pane takes the server's text a moment after the canvas
    assert task_ids(flow["tasks"][1]["tasks"]) == ["one", "two", "log_1"]
    assert "no task" not in page.evaluate("document.querySelector('#editor-message')?.innerText || ''")


def test_a_run_colours_the_boxes_by_state(studio, page):
    open_flow(studio, page, BOXES.format(flow="box_run"), "box_run")
    page.click("#run-button")
    page.click("#start-run")
    page.wait_for_function(
        "['fan', 'inner', 'deeper'].every((id) => document.querySelector("
        "`.react-flow__node[data-id='${id}'] .lanner-node[data-state='SUCCESS']`))",
        timeout=60_000,
    )
    group = page.locator(".react-flow__node[data-id='fan'] .lanner-group")
    assert group.evaluate("n => getComputedStyle(n).borderTopColor") == "rgb(22, 163, 74)"  # the SUCCESS colour
    assert "SUCCESS" in page.locator(".react-flow__node[data-id='fan'] .lanner-group-header").inner_text()
    assert_boxes_hold_their_children(page)
    if os.environ.get("LANNER_SCREENSHOTS"):  # the README's picture of groups as boxes
        page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "editor-groups.png"))
