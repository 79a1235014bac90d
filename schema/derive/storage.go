package derive

// Protection modes for StorageInput.Mode.
const (
	ModeReplicated = "replicated"
	ModeErasure    = "erasure"
)

// Storage defaults: Ceph's replicated pool size and nearfull ratio [S28, S29].
const (
	DefaultReplicas      = 3
	DefaultNearfullRatio = 0.85
)

// StorageInput describes a storage cluster to size. Zero values take the
// defaults given per field.
type StorageInput struct {
	Nodes, DrivesPerNode     int
	DriveTB                  float64
	Mode                     string  // "replicated" (default) or "erasure"
	Replicas                 int     // replicated size (DefaultReplicas when 0)
	DataChunks, CodingChunks int     // erasure k and m
	NearfullRatio            float64 // DefaultNearfullRatio when 0
	FailureDomains           int     // hosts, or racks when failure_domain = rack; Nodes when 0
}

// StorageCapacity is the derived capacity of a storage cluster, in TB.
type StorageCapacity struct {
	RawTB      float64 // nodes × drives × drive size
	UsableTB   float64 // raw / replicas, or raw × k/(k+m)
	PlanningTB float64 // usable × nearfull ratio: fill it no further
}

// SizeStorage derives raw, usable and planning capacity after domain.md §2.5.
// It returns an *InputError wrapping ErrTooFewFailureDomains when the
// cluster cannot put every replica, or every one of the k+m erasure-coded
// chunks, in its own failure domain, and an *InputError for figures no
// cluster can have.
func SizeStorage(in StorageInput) (StorageCapacity, error) {
	if in.Nodes <= 0 || in.DrivesPerNode <= 0 || in.DriveTB <= 0 {
		field := "drive_tb"
		if in.Nodes <= 0 {
			field = "nodes"
		} else if in.DrivesPerNode <= 0 {
			field = "drives_per_node"
		}
		return StorageCapacity{}, inputErr(field, nil, "A storage cluster needs positive nodes, drives_per_node and drive_tb; it has %d nodes with %d drives of %g TB.", in.Nodes, in.DrivesPerNode, in.DriveTB)
	}
	ratio := in.NearfullRatio
	if ratio == 0 {
		ratio = DefaultNearfullRatio
	}
	if ratio < 0 || ratio > 1 {
		return StorageCapacity{}, inputErr("nearfull_ratio", nil, "nearfull_ratio = %g must lie between 0 and 1; Ceph's default is 0.85.", ratio)
	}
	domains := in.FailureDomains
	if domains <= 0 {
		domains = in.Nodes
	}
	raw := float64(in.Nodes*in.DrivesPerNode) * in.DriveTB
	usable, err := usableTB(in, raw, domains)
	if err != nil {
		return StorageCapacity{}, err
	}
	return StorageCapacity{RawTB: raw, UsableTB: usable, PlanningTB: usable * ratio}, nil
}

// usableTB applies the protection scheme to raw capacity.
func usableTB(in StorageInput, raw float64, domains int) (float64, error) {
	switch in.Mode {
	case "", ModeReplicated:
		size := in.Replicas
		if size == 0 {
			size = DefaultReplicas
		}
		if size < 1 {
			return 0, inputErr("protection", nil, "replicas = %d must be at least 1; the usual size is 3.", size)
		}
		if domains < size {
			return 0, inputErr("protection", ErrTooFewFailureDomains, "%d replicas need at least %d failure domains, one per copy, but this cluster has %d. Add nodes (or racks), or lower replicas.", size, size, domains)
		}
		return raw / float64(size), nil
	case ModeErasure:
		k, m := in.DataChunks, in.CodingChunks
		if k < 1 || m < 1 {
			return 0, inputErr("protection", nil, "Erasure coding needs data_chunks and coding_chunks of at least 1 each, such as 4 and 2; got %d and %d.", k, m)
		}
		if domains < k+m {
			return 0, inputErr("protection", ErrTooFewFailureDomains, "Erasure coding %d+%d needs at least %d failure domains, one per chunk, but this cluster has %d. Add nodes (or racks), or use fewer chunks, such as 4+2.", k, m, k+m, domains)
		}
		return raw * float64(k) / float64(k+m), nil
	}
	return 0, inputErr("protection", nil, "Protection mode %q is not known. Use \"replicated\" or \"erasure\".", in.Mode)
}
