"""JSON Schemas of every body Phonebook reads or writes, keys in the contract's order.

Response schemas follow api/shapes.py key for key (CONTRACT §2, §3, §5); request
schemas follow rules/*_input.py: LGL's lax forms are spelled out (CONTRACT §4),
and no bound is stricter than the parser, so the server accepts no body the schema
rejects. A body the schema allows may still answer 422 on a rule no schema can
state (an unknown type id, a number too long once trimmed).
"""

from __future__ import annotations

from typing import Any, Final

from phonebook import API_VERSION
from phonebook.rules import constituent_input, phone_number_input

Schema = dict[str, Any]

# The server strips whitespace as Python's str.strip() does; Python's \s is the same set.
# At most 19 digits: every 64-bit id fits, as rules/fields.py allows.
LAX_INTEGER_PATTERN: Final = r"^\s*[+-]?[0-9]{1,19}\s*$"
LAX_TRUE_PATTERN: Final = r"^\s*([Tt][Rr][Uu][Ee]|1)\s*$"
LAX_FALSE_PATTERN: Final = r"^\s*([Ff][Aa][Ll][Ss][Ee]|0)\s*$"
LAX_BOOLEAN_PATTERN: Final = r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)\s*$"
TIMESTAMP_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(properties: dict[str, Schema], required: list[str], description: str) -> Schema:
    """A closed object: exactly these keys, in this order."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _closed(properties: dict[str, Schema], description: str) -> Schema:
    """A response object: every key always present."""
    return _obj(properties, list(properties), description)


# -- scalars -------------------------------------------------------------------


def _id(description: str) -> Schema:
    return {"type": "integer", "minimum": 1, "description": description}


def _timestamp(description: str) -> Schema:
    return {
        "type": "string",
        "format": "date-time",
        "pattern": TIMESTAMP_PATTERN,
        "description": f"{description}; UTC, to the second (2023-09-18T18:25:01Z).",
    }


def _api_version() -> Schema:
    return {"type": "string", "const": API_VERSION, "description": "Always 1.0."}


def lax_integer() -> Schema:
    return {
        "description": 'An integer, or a string of one of up to 19 digits ("2" for 2).',
        "anyOf": [
            {"type": "integer"},
            {"type": "string", "pattern": LAX_INTEGER_PATTERN},
        ],
    }


def lax_boolean() -> Schema:
    return {
        "description": 'A boolean, 0 or 1, or one of the strings "true", "false", "1", "0".',
        "anyOf": [
            {"type": "boolean"},
            {"type": "integer", "enum": [0, 1]},
            {"type": "string", "pattern": LAX_BOOLEAN_PATTERN},
        ],
    }


# -- phone numbers -------------------------------------------------------------


def _number_properties(*, owned: bool) -> dict[str, Schema]:
    """The phone number's keys in the contract's order (CONTRACT §2)."""
    props: dict[str, Schema] = {"id": _id("Phone number id.")}
    if owned:
        props["item_id"] = _id("The constituent's id.")
        props["item_type"] = {"type": "string", "const": "Constituent"}
    props["number"] = {"type": "string", "description": "The number as entered (trimmed)."}
    props["phone_number_type_id"] = _id("Phone number type id.")
    props["phone_type_name"] = {"type": "string", "description": "Phone number type name."}
    props["is_preferred"] = {"type": "boolean", "description": "The preferred number."}
    props["not_current"] = {"type": "boolean", "description": "No longer a current number."}
    props["parent_id"] = {"type": "null", "description": "Always null."}
    props["normalized_number"] = {
        "type": ["string", "null"],
        "description": "The digits of number, in order; null when it has none.",
    }
    props["created_at"] = _timestamp("Created")
    props["updated_at"] = _timestamp("Last changed")
    return props


def _number_write_properties(*, creating: bool) -> dict[str, Schema]:
    rule = "required; " if creating else ""
    return {
        "number": {
            "type": "string",
            "minLength": 1,
            "description": (
                f"Phone number: {rule}trimmed; 1 to 64 characters; no control characters; "
                "at least one digit, except for the Skype type, which holds a handle."
            ),
        },
        "phone_number_type_id": {
            **_nullable(lax_integer()),
            "description": "Phone number type id; null means not given. Unknown id: 422.",
        },
        "phone_type_name": {
            "type": ["string", "null"],
            "description": (
                "Phone number type name, matched case-insensitively; null or blank means not "
                "given. Unknown name, or naming another type than phone_number_type_id: 422."
            ),
        },
        "is_preferred": {
            **lax_boolean(),
            "description": "Make this the preferred number (clears it on the others).",
        },
        "not_current": {**lax_boolean(), "description": "No longer a current phone number."},
    }


def _ignored(keys: tuple[str, ...]) -> dict[str, Schema]:
    """Response-only keys a client may send back; any value is accepted and ignored."""
    return {
        key: {"readOnly": True, "description": "Read-only: accepted and ignored."} for key in keys
    }


def _number_body(*, creating: bool) -> Schema:
    props = {
        **_number_write_properties(creating=creating),
        **_ignored(phone_number_input.READ_ONLY),
    }
    if creating:
        what = "A new phone number. With no type given, the type is Home."
        return _obj(props, ["number"], f"{what} Any other key: 422.")
    what = "The fields to change; an empty object changes nothing."
    return _obj(props, [], f"{what} Any other key: 422.")


# -- constituents --------------------------------------------------------------


def _constituent_properties(*, shown: bool) -> dict[str, Schema]:
    """The constituent's keys in the contract's order (CONTRACT §1)."""
    text = {"type": ["string", "null"]}
    props: dict[str, Schema] = {
        "id": _id("Constituent id."),
        "external_constituent_id": {**text, "description": "Your own id for the constituent."},
        "is_org": {"type": "boolean", "description": "An organisation, not a person."},
    }
    for name in constituent_input.NAME_FIELDS[1:]:
        props[name] = dict(text)
    props["sort_name"] = {
        "type": "string",
        "description": '"Last, First" for a person; the organisation name for an organisation.',
    }
    props["created_at"] = _timestamp("Created")
    props["updated_at"] = _timestamp("Last changed")
    embedded = "always present" if shown else "present only with expand=phone_numbers"
    props["phone_numbers"] = {
        "type": "array",
        "items": ref("EmbeddedPhoneNumber"),
        "description": f"The constituent's phone numbers by id; {embedded}.",
    }
    return props


def _constituent_write_properties(*, creating: bool) -> dict[str, Schema]:
    text = {
        "type": ["string", "null"],
        "description": "Trimmed; at most 255 characters; no control characters; blank is null.",
    }
    props: dict[str, Schema] = {
        "is_org": {**lax_boolean(), "description": "An organisation (needs org_name)."}
    }
    for name in constituent_input.NAME_FIELDS:
        props[name] = dict(text)
    if creating:
        props["phone_numbers"] = {
            "type": ["array", "null"],
            "items": ref("PhoneNumberCreateBody"),
            "maxItems": constituent_input.MAX_NESTED_NUMBERS,
            "description": "Numbers to add with the constituent: all are stored, or none.",
        }
    return props


def _lax_literal(value: bool) -> Schema:
    pattern = LAX_TRUE_PATTERN if value else LAX_FALSE_PATTERN
    return {
        "anyOf": [{"const": value}, {"const": int(value)}, {"type": "string", "pattern": pattern}]
    }


def _names_required() -> list[Schema]:
    """A person needs a last_name, an organisation (is_org true) an org_name; blank is absent."""
    named = {"type": "string", "pattern": r"\S"}
    person = {"properties": {"is_org": _lax_literal(False), "last_name": named}}
    org = {"properties": {"is_org": _lax_literal(True), "org_name": named}}
    return [
        {"title": "A person", **person, "required": ["last_name"]},
        {"title": "An organisation", **org, "required": ["is_org", "org_name"]},
    ]


def _constituent_body(*, creating: bool) -> Schema:
    # On update, phone_numbers is ignored like the other response-only keys.
    ignored: tuple[str, ...] = constituent_input.READ_ONLY
    if not creating:
        ignored = (*ignored, "phone_numbers")
    props = {**_constituent_write_properties(creating=creating), **_ignored(ignored)}
    rule = "last_name is required, or org_name with is_org true"
    if creating:
        body = _obj(props, [], f"A new constituent: {rule}. Any other key: 422.")
        return {**body, "anyOf": _names_required()}
    return _obj(props, [], f"The fields to change; afterwards {rule}. Any other key: 422.")


# -- lists, types, results, errors ---------------------------------------------


def _list(item_type: str, item: str) -> Schema:
    """The list envelope (CONTRACT §5): next_item and next_link only when a later page exists."""
    count = {"type": "integer", "minimum": 0}
    props: dict[str, Schema] = {
        "api_version": _api_version(),
        "items_count": {**count, "description": "Items in this page."},
        "total_items": {**count, "description": "Items in all pages."},
        "limit": {"type": "integer", "minimum": 1, "description": "The limit applied."},
        "offset": {**count, "description": "The offset of this page."},
        "next_item": {**count, "description": "The offset of the next page, if there is one."},
        "next_link": {
            "type": "string",
            "format": "uri",
            "description": "The next page's absolute URL (never carries access_token).",
        },
        "item_type": {"type": "string", "const": item_type},
        "items": {"type": "array", "items": ref(item)},
    }
    required = [key for key in props if key not in ("next_item", "next_link")]
    return _obj(props, required, f"A page of {item_type} items, by id ascending.")


def _phone_number_type() -> Schema:
    return _closed(
        {
            "id": _id("Phone number type id."),
            "name": {"type": "string"},
            "display_name": {"type": "string"},
            "code": {"type": "string"},
            "ordinal": {"type": "integer"},
        },
        "A phone number type (CONTRACT §3).",
    )


def _deleted() -> Schema:
    return _closed(
        {"api_version": _api_version(), "result": {"type": "string", "const": "success"}},
        "The object is gone.",
    )


def _error() -> Schema:
    props: dict[str, Schema] = {
        "api_version": _api_version(),
        "error": {"type": "string", "description": "A short phrase: the HTTP reason."},
        "description": {"type": "string", "description": "What went wrong and what to fix."},
        "errors": {
            "type": "object",
            "description": "Only when fields are at fault: messages by field name.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    }
    return _obj(props, ["api_version", "error", "description"], "LGL's error body.")


def _health() -> Schema:
    status = {"type": "string", "enum": ["ok", "unavailable"]}
    return _closed({"status": status}, "Whether the database answers.")


def _audit_event(state: str, what: str) -> Schema:
    actions = ["create", "update", "delete", "restore"]
    return _closed(
        {
            "id": _id("Event id; events are listed by it, oldest first."),
            "action": {"type": "string", "enum": actions},
            "occurred_at": _timestamp("When the change was committed"),
            "key_id": {
                "anyOf": [_id("The API key that made the change."), {"type": "null"}],
                "description": "The API key that made the change; null for the command line.",
            },
            "before": _nullable(ref(state)),
            "after": _nullable(ref(state)),
        },
        f"One change to a {what}: before is null on a create or restore, after on a delete.",
    )


def _with_version(props: dict[str, Schema]) -> dict[str, Schema]:
    return {"api_version": _api_version(), **props}


def _constituent(*, shown: bool) -> Schema:
    props = _constituent_properties(shown=shown)
    if shown:
        return _closed(_with_version(props), "A constituent and its phone numbers.")
    required = [key for key in props if key != "phone_numbers"]
    return _obj(props, required, "A constituent in a list.")


def component_schemas() -> dict[str, Schema]:
    """Every named schema, for components.schemas."""
    return {
        "PhoneNumber": _closed(
            _with_version(_number_properties(owned=True)), "A phone number: show, create, update."
        ),
        "PhoneNumberItem": _closed(_number_properties(owned=True), "A phone number in a list."),
        "EmbeddedPhoneNumber": _closed(
            _number_properties(owned=False), "A phone number inside its constituent."
        ),
        "PhoneNumberCreateBody": _number_body(creating=True),
        "PhoneNumberUpdateBody": _number_body(creating=False),
        "PhoneNumberList": _list("phone_number", "PhoneNumberItem"),
        "PhoneNumberType": _phone_number_type(),
        "PhoneNumberTypeList": _list("phone_number_type", "PhoneNumberType"),
        "Constituent": _constituent(shown=True),
        "ConstituentItem": _constituent(shown=False),
        "ConstituentList": _list("constituent", "ConstituentItem"),
        "ConstituentCreateBody": _constituent_body(creating=True),
        "ConstituentUpdateBody": _constituent_body(creating=False),
        "DeleteResult": _deleted(),
        "PhoneNumberEvent": _audit_event("PhoneNumberItem", "phone number"),
        "PhoneNumberHistory": _list("audit_event", "PhoneNumberEvent"),
        "ConstituentEvent": _audit_event("ConstituentItem", "constituent"),
        "ConstituentHistory": _list("audit_event", "ConstituentEvent"),
        "Error": _error(),
        "Health": _health(),
    }
