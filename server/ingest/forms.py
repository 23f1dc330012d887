"""Form adapters (contract §2): a plugin's own submission payload -> one form event.

``form_facts(form, page_path)`` accepts the ``form`` object of ``POST /api/event`` in the
shapes of the contract's table and returns :class:`FormFacts` (form_name, form_id, plugin,
page_url). Only those four identifying values leave this module: what a visitor typed (CF7
``inputs`` / ``formData``, WPForms ``fields``, Gravity ``entry``, or any other key) is never
read into the result, copied or kept.

Accepted shapes (extra keys are ignored; ``title`` is optional everywhere):

=========  ==========================================================  ======================
plugin     from the browser                                            from a WordPress hook
=========  ==========================================================  ======================
``cf7``    ``wpcf7mailsent`` detail: ``contactFormId``, ``unitTag``,   ``id``, ``title``
           ``containerPostId``, ``status``, ``inputs``, ...
``wpforms`` ``formId`` (the form's ``data-formid``), ``title``          ``id``, ``title``,
                                                                       ``fields``
``gravity`` ``formId``, ``title``                                       ``id``, ``title``,
                                                                       ``entry``
``html``   ``name``, ``id`` (the form element's attributes)            -
=========  ==========================================================  ======================

Decisions
---------
* ``form_id`` - cf7: ``contactFormId``, else ``id``; wpforms / gravity: ``formId``, else ``id``
  (the browser key wins when both are sent). A string or an integer (not a boolean), rendered
  as text (``123`` -> ``"123"``); required, non-empty, at most 200 characters (a longer id is
  refused, never cut: a cut id would be another id). html: the ``id`` attribute, else the
  ``name`` attribute, else ``None`` (a form without either still counts as a submission).
* ``form_name`` - the ``title`` when sent and not blank; else for every plugin the form's
  ``name`` attribute when sent (html: else its ``id`` attribute; for the other plugins ``id``
  is the plugin's form id, not an attribute, so it is not used as a name). Otherwise ``None``:
  CF7 never puts its title in the page, and WPForms / Gravity only when the title is shown, so
  a browser event may well have no name. ``None`` (not an invented "CF7 form 123") lets a goal
  use ``FORM_NAME IS_EMPTY`` and ``FORM_ID`` to catch such forms. Whitespace in a name is
  collapsed like visible text; a name longer than 200 characters is truncated to 200
  (names are labels; cutting one loses nothing that identifies the form).
* CF7 success: a CF7 payload whose ``status`` (or, when that is absent,
  ``apiResponse.status``) is present and is not ``"mail_sent"`` is refused with
  ``InvalidInput(field="form.status")``: ``wpcf7submit`` fires for every outcome, and
  ``mail_failed`` / ``validation_failed`` / ``spam`` ... are not successful submissions.
  Likewise a Gravity hook ``entry`` whose ``status`` is ``"spam"`` is refused
  (``field="form.entry.status"``): ``gform_after_submission`` also runs for spam entries. Only
  that one metadata key of ``entry`` is looked at.
* ``plugin`` must be exactly one of ``cf7``, ``wpforms``, ``gravity``, ``html``.
* ``page_url`` is the path of the page (``page_path``, passed through ``path_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.errors import InvalidInput
from server.ingest.facts import path_of, visible_text

__all__ = ["FormFacts", "form_facts", "PLUGINS", "MAX_FORM_NAME", "MAX_FORM_ID"]

PLUGINS = ("cf7", "wpforms", "gravity", "html")
MAX_FORM_NAME = 200
MAX_FORM_ID = 200
CF7_SUCCESS = "mail_sent"

# plugin -> the keys holding its form id, browser shape first
_ID_KEYS = {
    "cf7": ("contactFormId", "id"),
    "wpforms": ("formId", "id"),
    "gravity": ("formId", "id"),
}


@dataclass(frozen=True, slots=True)
class FormFacts:
    form_name: str | None
    form_id: str | None
    plugin: str
    page_url: str | None


def form_facts(form: Any, page_path: str | None) -> FormFacts:
    """The facts of one ``form`` payload; raises ``InvalidInput`` (400) with the offending field."""
    if not isinstance(form, dict):
        raise InvalidInput("form must be an object", field="form")
    plugin = form.get("plugin")
    if plugin is None:
        raise InvalidInput("form.plugin is required", field="form.plugin")
    if not isinstance(plugin, str):
        raise InvalidInput("form.plugin must be a string", field="form.plugin")
    if plugin not in PLUGINS:
        raise InvalidInput(f"form.plugin must be one of {', '.join(PLUGINS)}", field="form.plugin")

    title = _optional_text(form, "title")
    name_attr = _optional_text(form, "name")

    if plugin == "html":
        id_attr = _optional_text(form, "id")
        if id_attr is not None and len(id_attr) > MAX_FORM_ID:
            raise InvalidInput(f"form.id is longer than {MAX_FORM_ID} characters", field="form.id")
        form_id = id_attr or name_attr or None
        if form_id is not None and len(form_id) > MAX_FORM_ID:
            raise InvalidInput(f"form.name is longer than {MAX_FORM_ID} characters",
                               field="form.name")
        name = _name(title) or _name(name_attr) or _name(id_attr)
    else:
        form_id = _plugin_form_id(form, plugin)
        name = _name(title) or _name(name_attr)
        if plugin == "cf7":
            _check_cf7_status(form)
        elif plugin == "gravity":
            _check_gravity_entry(form)

    return FormFacts(form_name=name, form_id=form_id, plugin=plugin, page_url=path_of(page_path))


def _optional_text(form: dict, key: str) -> str | None:
    value = form.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(f"form.{key} must be a string", field=f"form.{key}")
    return str(value)


def _name(value: str | None) -> str | None:
    value = visible_text(value)
    if value is None:
        return None
    return value[:MAX_FORM_NAME]


def _plugin_form_id(form: dict, plugin: str) -> str:
    keys = _ID_KEYS[plugin]
    for key in keys:
        value = form.get(key)
        if value is None:
            continue
        field = f"form.{key}"
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidInput(f"{field} must be a string or an integer", field=field)
        text = str(value)
        if text == "":
            raise InvalidInput(f"{field} must not be empty", field=field)
        if len(text) > MAX_FORM_ID:
            raise InvalidInput(f"{field} is longer than {MAX_FORM_ID} characters", field=field)
        return text
    raise InvalidInput(f"form.{keys[0]} (or form.id) is required for {plugin}",
                       field=f"form.{keys[0]}")


def _check_cf7_status(form: dict) -> None:
    status = form.get("status")
    field = "form.status"
    if status is None:
        api = form.get("apiResponse")
        if isinstance(api, dict):
            status = api.get("status")
            field = "form.apiResponse.status"
    if status is None:
        return
    if not isinstance(status, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    if status != CF7_SUCCESS:
        raise InvalidInput(
            f"not a successful Contact Form 7 submission (status {status[:40]!r}, "
            f"expected {CF7_SUCCESS!r})", field="form.status")


def _check_gravity_entry(form: dict) -> None:
    entry = form.get("entry")
    if isinstance(entry, dict) and entry.get("status") == "spam":
        raise InvalidInput("a Gravity Forms entry marked as spam is not a submission",
                           field="form.entry.status")
