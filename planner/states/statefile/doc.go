// Package statefile is the versioned file format of fabrica state (format_version 1)
// and of the journal that records apply's progress between full writes. It reads and
// writes bytes only; where they are stored is the business of the backends
// (planner/states/local), and the model is planner/states.
//
// A state file is JSON:
//
//	{
//	  "format_version": 1,
//	  "fabrica_version": "0.1.0",
//	  "serial": 12,
//	  "lineage": "0b6d1c1e-8f7a-4c55-9a51-3f6e2d4b7c10",
//	  "outputs": {
//	    "gpus": 4096
//	  },
//	  "resources": [
//	    {"address":"hardware.node[0]","kind":"hardware","provider":"sim","id":"hw-0","attrs":{…},"attrs_hash":"…","config_hash":"…","dependencies":["rack.r[0]"],"created_at":"…","updated_at":"…"},
//	    …
//	  ]
//	}
//
// Marshal is deterministic (instances sorted by address, one a line, so diffs of
// state files are readable), and Parse is fast at 100,000 instances: it validates the
// JSON in one pass with a purpose-built scanner and keeps every instance's attributes
// as a sub-slice of the file's bytes instead of decoding them. Parse refuses unknown
// fields, duplicate addresses and a format newer than it knows (*VersionError), and
// reports the line, column and byte offset of any problem (*Error).
package statefile
