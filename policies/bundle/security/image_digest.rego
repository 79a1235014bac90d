# METADATA
# title: Training images pinned by digest
# description: |
#   A training job's image must be pinned by digest (name@sha256:<64 hex digits>): a
#   tag can be moved to different content between plan and apply, or between the nodes
#   of one job. Jobs without an image (processes run directly) are not checked.
package fabrica.security.image_digest

import data.fabrica.lib

deny contains lib.finding(msg, rc.address, "image") if {
	some rc in lib.changes.training_job
	image := rc.after.image
	is_string(image)
	image != ""
	not regex.match(`@sha256:[a-f0-9]{64}$`, image)
	msg := sprintf(
		"image %q is not pinned by digest, so the content that runs can change under the same name. Pin it as NAME@sha256:DIGEST.",
		[image],
	)
}
