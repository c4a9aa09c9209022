#!/usr/bin/env python3
"""Turn a single-layer rootfs tar into image archives that engines import
without a registry.

usage: mkimg.py LAYER.tar OUTDIR NAME TAG

Writes OUTDIR/NAME-oci.tar (an OCI image layout: oci-layout, index.json,
blobs/sha256/...; the index entry is annotated with the containerd image
name docker.io/library/NAME:TAG) and OUTDIR/NAME-docker.tar (the format of
`docker save`: manifest.json, the config JSON, LAYER/layer.tar).
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def sha(data):
    return hashlib.sha256(data).hexdigest()


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def put_file(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def put_dir(tar, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def build(layer_path, out_dir, name, tag):
    with open(layer_path, "rb") as f:
        layer = f.read()
    layer_id = sha(layer)
    when = "2024-01-01T00:00:00Z"
    config = compact({
        "architecture": "amd64",
        "os": "linux",
        "created": when,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_id]},
        "history": [{"created": when, "created_by": "hutch tools/engines/mkimg.py"}],
    })
    config_id = sha(config)
    manifest = compact({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + config_id, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha256:" + layer_id, "size": len(layer)}],
    })
    manifest_id = sha(manifest)
    index = compact({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + manifest_id, "size": len(manifest),
            "annotations": {"io.containerd.image.name": f"docker.io/library/{name}:{tag}",
                            "org.opencontainers.image.ref.name": tag},
        }],
    })
    with tarfile.open(os.path.join(out_dir, f"{name}-oci.tar"), "w") as tar:
        put_file(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        put_file(tar, "index.json", index)
        put_dir(tar, "blobs")
        put_dir(tar, "blobs/sha256")
        for digest, blob in ((layer_id, layer), (config_id, config), (manifest_id, manifest)):
            put_file(tar, "blobs/sha256/" + digest, blob)
    with tarfile.open(os.path.join(out_dir, f"{name}-docker.tar"), "w") as tar:
        put_dir(tar, layer_id)
        put_file(tar, layer_id + "/layer.tar", layer)
        put_file(tar, layer_id + "/VERSION", b"1.0")
        put_file(tar, config_id + ".json", config)
        put_file(tar, "manifest.json", compact([{
            "Config": config_id + ".json", "RepoTags": [f"{name}:{tag}"],
            "Layers": [layer_id + "/layer.tar"]}]))
        put_file(tar, "repositories", compact({name: {tag: layer_id}}))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    build(*sys.argv[1:5])
