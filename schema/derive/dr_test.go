package derive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkpointDR is domain.md §2.6's example: a 70B × 12 B/param = 840 GB
// checkpoint every 30 min (40.32 TB/day), RPO 60 min, 100 TB dataset.
func checkpointDR(mode string, linkGbps float64) DRInput {
	return DRInput{ChangeRateTBPerDay: 40.32, LinkGbps: linkGbps, IntervalMinutes: 30, DatasetTB: 100,
		Mode: mode, RPOMinutes: 60, RTOMinutes: 240}
}

// seed100TB is 100 TB over 10 Gb/s: 8×10¹⁴ bits / 10¹⁰ = 80,000 s ≈ 22 h.
const seed100TB = 80000.0 / 3600

func TestDR(t *testing.T) {
	continuous := checkpointDR(DRActiveActive, 10)
	continuous.IntervalMinutes = 0
	tight := checkpointDR(DRWarmStandby, 10)
	tight.IntervalMinutes, tight.RPOMinutes = 60, 60
	lowOverhead := checkpointDR(DRPilotLight, 10)
	lowOverhead.Overhead, lowOverhead.ProvisionHours = 0.1, 1
	tests := []struct {
		name string
		in   DRInput
		want DRResult
	}{
		{
			// domain.md §2.6: ship 840 GB in 30 min → 3.7 Gb/s, 4.7 with
			// overhead → provision ≥ 10 Gb/s; pre-seeded, so no restore.
			name: "warm standby on 10 Gb/s",
			in:   checkpointDR(DRWarmStandby, 10),
			want: DRResult{EffectiveRPOMinutes: 30 + 14, SeedHours: seed100TB, RTOMinutes: 6,
				RequiredGbps: 3.7333333333333334 * 1.25, BandwidthSufficient: true, RPOFeasible: true, RTOFeasible: true},
		},
		{
			// domain.md §2.6: 100 TB restore at 10 Gb/s ≈ 22 h breaks a 4 h RTO.
			name: "backup and restore on 10 Gb/s",
			in:   checkpointDR("", 10),
			want: DRResult{EffectiveRPOMinutes: 44, SeedHours: seed100TB, RestoreHours: seed100TB, RTOMinutes: (4 + seed100TB) * 60,
				RequiredGbps: 3.7333333333333334 * 1.25, BandwidthSufficient: true, RPOFeasible: true},
		},
		{
			// 4 Gb/s < 4.67 Gb/s: each 840 GB takes 35 min, longer than the interval.
			name: "link too slow",
			in:   checkpointDR(DRWarmStandby, 4),
			want: DRResult{EffectiveRPOMinutes: 30 + 35, SeedHours: seed100TB * 2.5, RTOMinutes: 6,
				RequiredGbps: 3.7333333333333334 * 1.25, RTOFeasible: true},
		},
		{
			name: "continuous replication",
			in:   continuous,
			want: DRResult{SeedHours: seed100TB, RequiredGbps: 3.7333333333333334 * 1.25,
				BandwidthSufficient: true, RPOFeasible: true, RTOFeasible: true},
		},
		{
			// An interval as long as the RPO leaves no time to ship.
			name: "interval equals RPO",
			in:   tight,
			want: DRResult{EffectiveRPOMinutes: 60 + 28, SeedHours: seed100TB, RTOMinutes: 6,
				RequiredGbps: 3.7333333333333334 * 1.25, BandwidthSufficient: true, RTOFeasible: true},
		},
		{
			name: "explicit overhead and provisioning",
			in:   lowOverhead,
			want: DRResult{EffectiveRPOMinutes: 30 + 14*1.1/1.25, SeedHours: seed100TB, RTOMinutes: 60,
				RequiredGbps: 3.7333333333333334 * 1.1, BandwidthSufficient: true, RPOFeasible: true, RTOFeasible: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DR(tt.in)
			if err != nil {
				t.Fatalf("DR: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, exact); diff != "" {
				t.Errorf("DR mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDR_errors(t *testing.T) {
	negative := checkpointDR(DRWarmStandby, 10)
	negative.RPOMinutes = -5
	tests := []struct {
		name string
		in   DRInput
		want wantErr
	}{
		{"no link", checkpointDR(DRWarmStandby, 0), wantErr{"link_gbps", nil, "link_gbps must be positive"}},
		{"unknown mode", checkpointDR("hot", 10), wantErr{"mode", nil, `mode = "hot"`}},
		{"negative RPO", negative, wantErr{"rpo_minutes", nil, "-5 for rpo_minutes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DR(tt.in)
			if diff := cmp.Diff(DRResult{}, got); diff != "" {
				t.Errorf("DR returned a result with its error (-want +got):\n%s", diff)
			}
			checkInputErr(t, err, tt.want)
		})
	}
}

func TestDefaultProvisionHours(t *testing.T) {
	got := map[string]float64{}
	for _, m := range []string{DRBackupRestore, DRPilotLight, DRWarmStandby, DRActiveActive} {
		h, ok := DefaultProvisionHours(m)
		if !ok {
			t.Errorf("DefaultProvisionHours(%q) not ok", m)
		}
		got[m] = h
	}
	want := map[string]float64{"backup_restore": 4, "pilot_light": 0.5, "warm_standby": 0.1, "active_active": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultProvisionHours mismatch (-want +got):\n%s", diff)
	}
	if _, ok := DefaultProvisionHours("cold"); ok {
		t.Errorf("DefaultProvisionHours(%q) ok for an unknown mode", "cold")
	}
}

func TestDistanceKM(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tol              float64
	}{
		{"Frankfurt–Amsterdam", 50.11, 8.68, 52.37, 4.90, 365, 5},
		{"Amsterdam–Frankfurt is symmetric", 52.37, 4.90, 50.11, 8.68, 365, 5},
		{"same point", 50.11, 8.68, 50.11, 8.68, 0, 1e-9},
		{"antipodes", 0, 0, 0, 180, 6371 * 3.141592653589793, 1e-6},
		{"one degree of latitude", 0, 0, 1, 0, 111.19, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DistanceKM(tt.lat1, tt.lon1, tt.lat2, tt.lon2); got < tt.want-tt.tol || got > tt.want+tt.tol {
				t.Errorf("DistanceKM = %.3f km, want %.3f ± %g", got, tt.want, tt.tol)
			}
		})
	}
}
