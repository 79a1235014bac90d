// Package states is fabrica's model of the real world as last read or applied: a State
// of resource Instances indexed by address, with the serial and lineage that version
// it. It also declares the Backend interface that stores states with locking and an
// apply journal, and the rules shared by every backend (CheckPush, LockedError).
//
// The model, its file format and its storage are separate, as in OpenTofu:
//
//   - planner/states (this package): State, Instance, Backend, Journal, LockInfo.
//   - planner/states/statefile: the versioned JSON format and the journal format.
//   - planner/states/local: the local file backend (.fabrica/state.json).
//   - planner/states/pg: the PostgreSQL backend, for teams; the same contract.
//   - planner/states/crypt: encryption at rest (AES-256-GCM) for both backends and
//     for plan files.
//
// Both backends serve one workspace each (Workspaces manages them; DefaultWorkspace
// always exists), and Migrate moves a state from one backend to another
// (`init --migrate-state`).
//
// Attributes stay JSON (json.RawMessage) from provider to state file and back: loading
// a state decodes no attributes, so 100,000 instances load in a fraction of a second.
//
// # Serial and lineage
//
// Lineage is a random UUID given to a state when it is first persisted; it never
// changes. Serial grows with every persist. A plan records both, and apply refuses a
// plan whose state has moved on. A state with journaled changes from a run that did
// not finish loads with a serial above the stored one, so plans made before that run
// are stale too.
//
// # A writing run
//
//	id, err := b.Lock(ctx, states.NewLockInfo("apply"))  // *LockedError if held
//	s, err := b.Load(ctx)
//	j, err := b.Journal(ctx, s)
//	// for each completed change: s.Put(inst) and j.Put(inst) (or Remove)
//	err = b.Persist(ctx, s)  // atomic write, backup, journal emptied
//	err = j.Close()
//	err = b.Unlock(ctx, id)
//
// Read-only commands call Load alone and never wait for a lock.
package states
