"""Publish a policy bundle folder to the policy bucket: ``python -m puraify.publish FOLDER [--revision R]``.

The operator's command beside the functions: it names the S3 adapter, so it sits with the wiring,
above the Planning Engine (docs/planning.md).
"""

from __future__ import annotations

from puraify.planning.bundles import publish_folder


def main(argv: list[str] | None = None) -> None:
    import argparse

    from puraify.settings import get_settings
    from puraify.store.planning import S3BundleStore

    parser = argparse.ArgumentParser(description="Publish a policy bundle folder to the policy bucket")
    parser.add_argument("folder")
    parser.add_argument("--revision")
    parser.add_argument("--bucket", help="defaults to POLICY_BUCKET")
    args = parser.parse_args(argv)
    store = S3BundleStore(args.bucket or get_settings().policy_bucket)
    manifest, created = publish_folder(store, args.folder, args.revision)
    state = "published" if created else "already published; made active"
    print(f"{state}: revision {manifest.revision} sha256 {manifest.sha256} entrypoint {manifest.entrypoint}")


if __name__ == "__main__":
    main()
