// Package sim is the embedded default provider: a simulated datacenter ("the world") for
// the kinds facility, hardware, fabric, storage, dr_site and training_cluster, so that
// plan, apply, refresh, drift and failures can be shown and tested without real
// equipment. training_job is left to the scheduler providers (local, slurm).
//
// # Configuration
//
//	provider "sim" {
//	  latency      = "50ms" # time each operation takes (default 0)
//	  failure_rate = 0.1    # probability that a change fails (default 0)
//	  seed         = 7      # makes the failures reproducible (default 0)
//	}
//
// # The world
//
// The world is a set of objects, each with an ID "sim-<kind>-<n>" (n counts up and is
// never reused), its kind, the fabrica address it was created for and its attributes as
// canonical JSON with their hash. It lives in WORKDIR/.fabrica/sim-world.json: one JSON
// document with one object per line in creation order, so it can be read, diffed and
// even edited by hand. Each line has its keys sorted, so loading splits lines into
// fields on every CPU instead of decoding by reflection (a file in another layout is
// read with encoding/json). An object whose stored hash no longer matches its
// attributes is made canonical and hashed again on load, so a hand edit shows as drift.
//
// Persistence: an apply takes the world lock (.fabrica/sim-world.lock, a gofrs/flock)
// and appends each finished change to .fabrica/sim-world.journal (JSON lines: apply,
// put, delete) before reporting it done; appends are committed in groups, one write
// per group. A process killed at any moment thus leaves every reported change on disk
// and at most one torn last line, which loading ignores. (The journal is not synced:
// it survives the death of the process, and the fold below makes it durable.) When the
// apply ends, the world is written once to a temporary file, synced, renamed over
// sim-world.json, the directory synced, and the journal removed; rewriting the world
// per change would cost O(n²) at 100,000 servers. A journal found later (after a crash)
// is replayed on load and folded in by whoever next holds the lock. Loading needs no
// lock, since the world file is only ever replaced by a rename. A corrupt world file is
// reported, naming the file, and never overwritten; so is a journal with a bad line
// that is not the last.
//
// Out of band, Drift and Remove (behind `fabrica sim drift ADDR ATTR=VALUE` and `fabrica
// sim remove ADDR`) change the world as if someone changed the real datacenter, under
// the same lock; List reads it. A provider notices that its files changed since it
// loaded them (size and modification time) and reloads before Read and Import.
//
// # Plan
//
// Plan needs no world. Planned attributes are the desired ones plus the computed ones:
// on update they are kept from the prior attributes (id, and for hardware serial_number,
// bmc_password and stage); on create id, serial_number and bmc_password are listed in
// Unknown, known after apply, and stage is "in-service". bmc_password is the credential
// a server's BMC is issued at burn-in: Info declares it sensitive, so fabrica keeps it in
// state and redacts it in every other output. Unknown attributes are absent from Planned. A change of one
// of these attributes forces a replacement (a new object, a new ID):
//
//	facility          region
//	hardware          device_type, facility, rack (a server moved to another rack is re-racked)
//	fabric            facility, transport
//	storage           facility, kind
//	dr_site           primary, secondary
//	training_cluster  facility, scheduler
//
// Other attributes change in place.
//
// # Apply
//
// Changes run concurrently, each on an idle worker goroutine or a new one when all are
// busy; the caller sets the parallelism by how many changes it has sent before their
// Done or Failed events. Each operation takes latency.
// A hardware create goes through stages, one progress event each and a third of the
// latency apart: racked, burn-in, in-service. A change fails, leaving the world as it
// was, when a hash of (seed, apply number, address, action) read as a number in [0,1) is
// below failure_rate: the outcome does not depend on order or parallelism, and since
// the apply number is kept in the world, a second apply draws anew. A failed server
// create fails during burn-in. Stop and the cancellation of ctx end in-flight changes
// at once with a Failed event ("stopped", "cancelled: ..."). An update keeps the
// computed attributes the world has; an update of an object that has gone fails; a
// delete of one that has gone is done.
//
// # Read
//
// Read answers from memory: Gone when the ID is missing (or names an object of another
// kind), Unchanged when the object's stored hash equals the item's PriorHash, else the
// attributes and their hash.
package sim
