"""A log line as every log panel shows it (editor, execution page)."""

import reflex as rx


def log_line(line: dict) -> rx.Component:
    return rx.text(
        line["text"].to(str), white_space="pre-wrap", font_family="monospace", size="1", class_name="log-line"
    )
