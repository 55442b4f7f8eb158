"""An HTML form the browser submits itself (a real POST and a page load), for sign-in and sign-out.

``rx.el.form`` always cancels the browser's submission (it hands the fields to an event handler instead), so a
form posting to the API, which answers with a cookie and a redirect, would silently do nothing.
"""

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML


class PlainForm(BaseHTML):
    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


plain_form = PlainForm.create
