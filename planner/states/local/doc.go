// Package local is the embedded default state backend: the state of a configuration in
// one file, .fabrica/state.json unless configured otherwise, in the format of
// planner/states/statefile. It implements states.Backend.
//
// Files, next to the state file:
//
//	state.json            the state, replaced atomically by Persist
//	state.json.backup     the state before the last Persist (a hard link to the old file)
//	state.json.journal    apply's records since the last Persist (see Journal)
//	state.json.lock       the flock(2) target of the write lock; always empty
//	state.json.lock.info  who holds the lock (JSON LockInfo), for others' messages
//
// Guarantees:
//
//   - The state file is never half-written: Persist writes a temporary file, syncs it,
//     links the old file to state.json.backup, renames the new one over state.json and
//     syncs the directory. A crash at any point leaves the old or the new state.
//   - A file that cannot be parsed is never overwritten: Load reports it (naming the file
//     and saying it was not modified) and Persist, Push and Journal refuse to run.
//   - Persist refuses to overwrite a state of another lineage or of a newer serial than
//     the one it writes: someone changed the file since it was read.
//   - Each journal record is with the operating system before Put returns (copied into
//     a shared mapping of the file on 64-bit Linux, write(2) elsewhere), so a killed
//     process, SIGKILL included, loses no completed record. No Put waits for the disk:
//     a background fsync every SyncInterval (100 ms by default), Close and Persist make
//     records durable, so a power loss or kernel crash loses at most the last
//     SyncInterval. Each record carries a CRC; a torn last record is ignored when the
//     journal is read, and the next journal of the run cuts it off.
//   - A journal belongs to the state file it was opened on (lineage and serial in its
//     "open" records): Persist empties it, and a journal left from before a Persist
//     (a crash between the rename and the emptying) is ignored.
//   - The lock is released by the kernel when its holder exits, however it exits. The
//     info file it leaves behind is ignored; the next Lock replaces it.
//   - Load, used by read-only commands, takes no lock and never waits: it reads whichever
//     complete state file is in place, plus the journal.
//
// Workspaces (workspace.go): the default workspace is the configured file; workspace
// NAME lives in workspaces/NAME/state.json next to it (WorkspacePath, Workspaces).
//
// Encryption (crypt.go): with Backend.Crypt set, the state file is one crypt envelope
// and each journal line is sealed on its own, so the journal keeps its guarantees. A
// file that cannot be decrypted (wrong key, modified data) is a *DecryptError and is
// never overwritten.
package local
