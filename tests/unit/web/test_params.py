"""The request values RECON parses itself (recon.web.params): query-string integers, integers in
a path and the JSON body. A value Python would accept but RECON cannot store ('²', which
``str.isdigit()`` calls a digit; a number past SQLite's 64-bit range; a body nested past the
recursion limit; a lone surrogate) is a 400 naming the problem, never a 500 (issue 24, item 9)."""

from __future__ import annotations

import json

import pytest
from flask import Flask, jsonify, request

from recon.core.errors import InvalidParameter, ReconError
from recon.web import params

# Examples of what each parser sees; the good ones first.
GOOD_INTS = [("1", 1), ("50", 50), ("0500", 500)]
BAD_INTS = ["²", "١٢", "½", "", " 5", "5 ", "+5", "-1", "1e3", "0x10", "5.0", "501", "0",
            "9" * 5000, "99999999999999999999999999"]


@pytest.mark.parametrize("raw,value", GOOD_INTS)
def test_parse_int_reads_ascii_digits_in_range(raw, value):
    assert params.parse_int("limit", raw, 1, 500) == value


@pytest.mark.parametrize("raw", BAD_INTS)
def test_parse_int_refuses_anything_else_naming_the_parameter(raw):
    with pytest.raises(InvalidParameter) as caught:
        params.parse_int("limit", raw, 1, 500)
    assert caught.value.parameter == "limit" and caught.value.status == 400
    assert "1-500" in caught.value.message and caught.value.hint


def app_with_routes() -> Flask:
    app = Flask(__name__)
    params.init_app(app)

    @app.errorhandler(ReconError)
    def _error(exc):
        return jsonify(exc.to_dict()), exc.status

    @app.get("/n")
    def n():
        return jsonify(params.int_arg("limit", 7, 1, 500))

    @app.get("/item/<int:item>")
    def item(item):
        return jsonify(item)

    @app.delete("/item/<int:item>")
    def drop(item):
        return jsonify(item)

    @app.post("/body")
    def body():
        return jsonify(request.get_json(silent=True))

    return app


@pytest.mark.parametrize("query,status,answer", [
    ("", 200, 7), ("?limit=12", 200, 12), ("?limit=²", 400, "invalid_parameter"),
    ("?limit=" + "9" * 5000, 400, "invalid_parameter")])
def test_int_arg_reads_the_query_string(query, status, answer):
    resp = app_with_routes().test_client().get("/n" + query)
    assert resp.status_code == status
    assert (resp.get_json() if status == 200 else resp.get_json()["error"]) == answer


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("path,status", [
    ("/item/12", 200), (f"/item/{2**63 - 1}", 200), (f"/item/{2**63}", 404),
    ("/item/9999999999999999999", 404), ("/item/99999999999999999999999999", 404),
    ("/item/" + "9" * 5000, 404), ("/item/١٢", 404), ("/item/²", 404)])
def test_an_int_in_a_path_is_ascii_and_fits_sqlite(method, path, status):
    resp = app_with_routes().test_client().open(path, method=method)
    assert resp.status_code == status
    if status == 200:
        assert resp.get_json() == int(path.rsplit("/", 1)[1])


@pytest.mark.parametrize("raw,reason", [
    ("[" * 200000, "nested"), ("[" * 5000 + "]" * 5000, "nested"),
    ('{"a": {"b": [' * 3000 + "1" + "]}}" * 3000, "nested"),
    ('{"password": "\\udc00"}', "surrogate"), ('{"\\ud800": 1}', "surrogate"),
    ('["ok", {"deep": ["\\udfffx"]}]', "surrogate"),
    ('{"p": "\udc00"}', "surrogate")])  # the surrogate itself, sent as bytes
def test_the_json_body_reader_refuses_what_cannot_be_used(raw, reason):
    data = raw.encode("utf-8", "surrogatepass")
    resp = app_with_routes().test_client().post("/body", data=data,
                                                content_type="application/json")
    body = resp.get_json()
    assert resp.status_code == 400, body
    assert body["error"] == "invalid_body" and reason in body["message"] and body["hint"]


@pytest.mark.parametrize("value", [{"a": [1, {"b": "é ☃ 𝄞"}]}, [[[[]]]], "x", 3, None,
                                   json.loads("[" * 300 + "]" * 300)])
def test_the_json_body_reader_passes_a_good_body_through(value):
    resp = app_with_routes().test_client().post("/body", data=json.dumps(value),
                                                content_type="application/json")
    assert resp.status_code == 200 and resp.get_json() == value


def test_a_body_that_is_not_json_stays_none_for_the_route_to_refuse():
    resp = app_with_routes().test_client().post("/body", data="{nope",
                                                content_type="application/json")
    assert resp.status_code == 200 and resp.get_json() is None
