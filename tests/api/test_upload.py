"""Uploading a dataset by the GraphQL multipart request spec: streamed, hashed, capped,
refused before the body without a token, named by its hash, processed by the job."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.datasets.intake import stored_path
from ogcrm.db.models import AuditEvent, Dataset
from tests.support import gql, token_for

UPLOAD = """mutation($file: Upload!, $source: String) { uploadDataset(file: $file, source: $source) {
  __typename ... on UploadDatasetPayload { alreadyImported dataset { id filename state contentHash } }
  ... on ValidationError { field message } ... on PermissionDenied { message } } }"""
STATE = "query($id: ID!) { dataset(id: $id) { state counts { read } error { file row column reason } } }"
CSV = b"Operator Name,API #\nAcme Oil Co.,42-003-12345\nBravo Energy LLC,42-003-12346\n"


@pytest.fixture
def app_client(settings, db):
    with TestClient(
        create_app(replace(settings, redis_url="", max_upload_bytes=64 * 1024), db=db)
    ) as c:
        yield c


def _post(
    client,
    content: bytes,
    *,
    token: str | None,
    name: str = "permits.csv",
    query: str = UPLOAD,
    **variables,
):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": {"file": None, **variables}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": (name, content, "text/csv")},
        headers=headers,
    )


def _leftovers(data_dir: Path) -> list[Path]:
    uploads = data_dir / "uploads"
    return list(uploads.iterdir()) if uploads.exists() else []


def _wait(client, token, gid, state, seconds=20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        found = gql(client, STATE, token=token, id=gid)["data"]["dataset"]
        if found["state"] == state or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_an_upload_is_stored_by_its_hash_and_processed(app_client, settings, users):
    token = token_for(app_client, users.create("analyst"))
    response = _post(app_client, CSV, token=token)
    assert response.status_code == 200, response.text
    result = response.json()["data"]["uploadDataset"]
    assert result["__typename"] == "UploadDatasetPayload" and result["alreadyImported"] is False
    dataset = result["dataset"]
    assert dataset["filename"] == "permits.csv"
    assert stored_path(settings.data_dir, dataset["contentHash"]).read_bytes() == CSV
    assert _wait(app_client, token, dataset["id"], "AWAITING_REVIEW")["counts"] == {"read": 2}
    assert _leftovers(settings.data_dir) == []
    again = _post(app_client, CSV, token=token, name="again.csv").json()["data"]["uploadDataset"]
    assert again["alreadyImported"] is True and again["dataset"]["id"] == dataset["id"]


def test_an_upload_over_the_cap_is_413_and_leaves_nothing(app_client, db, settings, users):
    token = token_for(app_client, users.create("analyst"))
    response = _post(app_client, CSV * 2000, token=token)  # 150 kB
    assert response.status_code == 413
    assert _leftovers(settings.data_dir) == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_multipart_without_a_valid_token_is_refused_before_the_body(app_client, db, token):
    response = _post(app_client, CSV, token=token)
    assert response.status_code == 401
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0


@pytest.mark.parametrize("role", ["sales", "viewer", "manager"])
def test_a_role_that_may_not_upload_is_refused(app_client, users, settings, role):
    response = _post(app_client, CSV, token=token_for(app_client, users.create(role)))
    assert response.status_code == 403
    assert _leftovers(settings.data_dir) == []


def test_a_hostile_file_name_is_kept_as_sanitized_metadata(app_client, settings, users):
    token = token_for(app_client, users.create("analyst"))
    name = "../../etc/passwd\x00" + "é" * 10_000 + ".csv"
    response = _post(app_client, CSV, token=token, name=name)
    assert "data" in response.json(), response.text
    result = response.json()["data"]["uploadDataset"]
    filename = result["dataset"]["filename"]
    assert "/" not in filename and "\x00" not in filename and ".." not in filename
    assert len(filename) <= 200
    assert not (settings.data_dir.parent / "etc").exists()


def test_a_binary_file_becomes_a_failed_dataset_with_the_reason(app_client, users):
    token = token_for(app_client, users.create("analyst"))
    blob = bytes(range(256)) * 4
    result = _post(app_client, blob, token=token, name="blob.bin").json()["data"]["uploadDataset"]
    found = gql(app_client, STATE, token=token, id=result["dataset"]["id"])["data"]["dataset"]
    assert found["state"] == "FAILED" and found["error"]["file"] == "blob.bin"
    assert found["error"]["reason"]


def test_an_unknown_source_is_refused_naming_the_field(app_client, settings, users):
    token = token_for(app_client, users.create("analyst"))
    response = _post(app_client, CSV, token=token, source="no-such-source")
    assert response.json().get("data"), response.text
    result = response.json()["data"]["uploadDataset"]
    assert result == {
        "__typename": "ValidationError",
        "field": "source",
        "message": "unknown source 'no-such-source'; `ogcrm sources` lists them",
    }
    assert _leftovers(settings.data_dir) == []


def test_multipart_runs_only_the_upload_mutation(app_client, users):
    token = token_for(app_client, users.create("analyst"))
    response = _post(app_client, CSV, token=token, query="{ version }")
    assert response.status_code == 400
    assert "uploadDataset" in response.json()["error"]


def test_upload_without_multipart_is_a_validation_error(app_client, users):
    token = token_for(app_client, users.create("analyst"))
    result = gql(app_client, UPLOAD, token=token, file="aGVsbG8=")["data"]["uploadDataset"]
    assert result["__typename"] == "ValidationError" and result["field"] == "file"


def test_an_upload_is_audited(app_client, db, users):
    analyst = users.create("analyst")
    _post(app_client, CSV, token=token_for(app_client, analyst))
    with db.read() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.user_id == analyst.id)).all()
    assert "dataset.receive" in actions
