package derive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tenNodes is domain.md §2.5's example: 10 nodes × 12 × 15.36 TB = 1,843.2 TB raw.
func tenNodes(mode string, replicas, k, m int) StorageInput {
	return StorageInput{Nodes: 10, DrivesPerNode: 12, DriveTB: 15.36, Mode: mode, Replicas: replicas, DataChunks: k, CodingChunks: m}
}

func TestSizeStorage(t *testing.T) {
	ratio75 := tenNodes("", 2, 0, 0)
	ratio75.NearfullRatio = 0.75
	rackDomains := tenNodes(ModeErasure, 0, 3, 2)
	rackDomains.FailureDomains = 5
	tests := []struct {
		name string
		in   StorageInput
		want StorageCapacity
	}{
		// domain.md §2.5: 3× replica 614 TB usable / 522 TB planning.
		{"3× replica", tenNodes(ModeReplicated, 3, 0, 0), StorageCapacity{1843.2, 614.4, 522.24}},
		{"defaults are 3× replica", tenNodes("", 0, 0, 0), StorageCapacity{1843.2, 614.4, 522.24}},
		// domain.md §2.5: EC 4+2 1,229 / 1,044 TB.
		{"EC 4+2", tenNodes(ModeErasure, 0, 4, 2), StorageCapacity{1843.2, 1228.8, 1044.48}},
		{"2× replica at ODF ratio", ratio75, StorageCapacity{1843.2, 921.6, 691.2}},
		{"EC 3+2 over 5 racks", rackDomains, StorageCapacity{1843.2, 1105.92, 940.032}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SizeStorage(tt.in)
			if err != nil {
				t.Fatalf("SizeStorage: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, exact); diff != "" {
				t.Errorf("SizeStorage mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSizeStorage_errors(t *testing.T) {
	racks := tenNodes(ModeReplicated, 3, 0, 0)
	racks.FailureDomains = 2
	badRatio := tenNodes("", 0, 0, 0)
	badRatio.NearfullRatio = 85
	tests := []struct {
		name string
		in   StorageInput
		want wantErr
	}{
		// domain.md §2.5: EC 8+3 rejected on 10 hosts.
		{"EC 8+3 on 10 hosts", tenNodes(ModeErasure, 0, 8, 3), wantErr{"protection", ErrTooFewFailureDomains, "Erasure coding 8+3 needs at least 11 failure domains, one per chunk, but this cluster has 10."}},
		{"3 replicas over 2 racks", racks, wantErr{"protection", ErrTooFewFailureDomains, "3 replicas need at least 3 failure domains"}},
		{"EC without chunks", tenNodes(ModeErasure, 0, 4, 0), wantErr{"protection", nil, "got 4 and 0"}},
		{"negative replicas", tenNodes(ModeReplicated, -1, 0, 0), wantErr{"protection", nil, "replicas = -1"}},
		{"unknown mode", tenNodes("mirror", 0, 0, 0), wantErr{"protection", nil, `"mirror" is not known`}},
		{"ratio as percent", badRatio, wantErr{"nearfull_ratio", nil, "nearfull_ratio = 85"}},
		{"no drives", StorageInput{Nodes: 3}, wantErr{"drives_per_node", nil, "3 nodes with 0 drives"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SizeStorage(tt.in)
			if diff := cmp.Diff(StorageCapacity{}, got); diff != "" {
				t.Errorf("SizeStorage returned a capacity with its error (-want +got):\n%s", diff)
			}
			checkInputErr(t, err, tt.want)
		})
	}
}
