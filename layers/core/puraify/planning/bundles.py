"""Policy bundles: ``.rego`` files plus ``data.json``, described by a manifest with sha256 digests.

Publishing writes every file under ``bundles/<revision>/``, then that revision's manifest, then
the active ``manifest.json`` last: a reader that sees a manifest finds every file it names (by
S3 version id, so a later overwrite cannot change what a manifest means). Re-publishing the same
revision with the same content is a no-op success; with different content it is a conflict.

``python -m puraify.planning.bundles <folder> [--revision R]`` publishes a folder to the bucket
named by ``POLICY_BUCKET`` (on ``AWS_ENDPOINT_URL`` when set).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from puraify.clock import iso
from puraify.errors import ConflictError, ValidationFailedError
from puraify.planning.ports import BundleStore

MANIFEST_KEY = "manifest.json"  # the active bundle: every revision's files, by S3 version id
DATA_FILE = "data.json"
FOLDER_META = "bundle.json"  # a folder's revision and entrypoint; not part of the bundle


class ManifestFile(BaseModel):
    sha256: str
    key: str
    version_id: str | None = None
    size: int


class Manifest(BaseModel):
    revision: str
    entrypoint: str
    sha256: str
    files: dict[str, ManifestFile]
    published_at: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_digest(file_digests: dict[str, str]) -> str:
    """One digest over every file's name and digest: it names the bundle's exact content."""
    lines = "".join(f"{name}\0{digest}\n" for name, digest in sorted(file_digests.items()))
    return sha256(lines.encode())


def revision_prefix(revision: str) -> str:
    return f"bundles/{revision}/"


def published(store: BundleStore) -> dict[str, Any] | None:
    """The active manifest's ``revision``, ``sha256`` and ``published_at`` (one read); None when none is published."""
    raw = store.get(MANIFEST_KEY)
    if raw is None:
        return None
    manifest = Manifest.model_validate_json(raw)
    return {"revision": manifest.revision, "sha256": manifest.sha256, "published_at": manifest.published_at}


def check_files(files: dict[str, bytes]) -> None:
    """A bundle needs at least one ``.rego`` file, and its ``data.json`` (if any) must be a JSON object."""
    if not any(name.endswith(".rego") for name in files):
        raise ValidationFailedError(
            "a bundle needs at least one .rego file",
            details=[{"field": "body.files", "message": "no .rego file", "type": "missing"}],
        )
    if DATA_FILE in files:
        try:
            data = json.loads(files[DATA_FILE])
        except ValueError as error:
            raise ValidationFailedError(
                "data.json is not valid JSON",
                details=[{"field": "body.files.data.json", "message": str(error), "type": "json_invalid"}],
            ) from error
        if not isinstance(data, dict):
            raise ValidationFailedError(
                "data.json must be a JSON object",
                details=[{"field": "body.files.data.json", "message": "not an object", "type": "dict_type"}],
            )


def publish(store: BundleStore, files: dict[str, bytes], *, revision: str, entrypoint: str) -> tuple[Manifest, bool]:
    """Write a bundle and make it active: files first, manifest last. Returns (manifest, created)."""
    check_files(files)
    digests = {name: sha256(body) for name, body in files.items()}
    digest = bundle_digest(digests)
    revision_manifest_key = revision_prefix(revision) + MANIFEST_KEY
    existing = store.get(revision_manifest_key)
    if existing is not None:
        previous = Manifest.model_validate_json(existing)
        if previous.sha256 != digest or previous.entrypoint != entrypoint:
            raise ConflictError(
                f"revision '{revision}' was already published with other content; publish a new revision",
                code="revision_exists",
            )
        store.put(MANIFEST_KEY, existing, "application/json")
        return previous, False
    entries = {}
    for name, body in sorted(files.items()):
        key = revision_prefix(revision) + name
        version = store.put(key, body, "application/json" if name == DATA_FILE else "text/plain")
        entries[name] = ManifestFile(sha256=digests[name], key=key, version_id=version, size=len(body))
    manifest = Manifest(revision=revision, entrypoint=entrypoint, sha256=digest, files=entries, published_at=iso())
    body = manifest.model_dump_json(indent=2).encode()
    store.put(revision_manifest_key, body, "application/json")
    store.put(MANIFEST_KEY, body, "application/json")
    return manifest, True


def read_folder(folder: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    """A folder's bundle files (``*.rego`` except ``*_test.rego``, and ``data.json``) and its ``bundle.json``."""
    files = {
        path.name: path.read_bytes()
        for path in sorted(folder.iterdir())
        if path.is_file() and (path.suffix == ".rego" and not path.stem.endswith("_test") or path.name == DATA_FILE)
    }
    meta_path = folder / FOLDER_META
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return files, meta


def publish_folder(store: BundleStore, folder: Path | str, revision: str | None = None) -> tuple[Manifest, bool]:
    """Publish a folder as a bundle; the revision defaults to ``bundle.json``'s, else the content digest."""
    files, meta = read_folder(Path(folder))
    digest = bundle_digest({name: sha256(body) for name, body in files.items()})
    chosen = revision or meta.get("revision") or f"sha-{digest[:12]}"
    return publish(store, files, revision=chosen, entrypoint=meta.get("entrypoint", "gate/decision"))
