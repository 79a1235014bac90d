package fabrica.security.image_digest_test

import data.fabrica.security.image_digest

job(after) := {"resource_changes": [{"address": "training_job.j", "kind": "training_job", "action": "create", "after": after}]}

test_pinned_or_absent_image_passes if {
	count(image_digest.deny) == 0 with input as job({"image": "nvcr.io/nvidia/pytorch@sha256:4f1e0c2bb7ab7c0e6b4f4d09e3d0a9a2c6b6b8f8b1e0c2bb7ab7c0e6b4f4d09e"})
	count(image_digest.deny) == 0 with input as job({"command": ["python3", "train.py"]})
}

test_tagged_image_denied if {
	ds := image_digest.deny with input as job({"image": "nvcr.io/nvidia/pytorch:24.05-py3"})
	some d in ds
	d.attribute == "image"
	count(image_digest.deny) == 1 with input as job({"image": "pytorch@sha256:short"})
}
