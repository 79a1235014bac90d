package derive

import "math"

// DR modes for DRInput.Mode, after the AWS tiers [S31].
const (
	DRBackupRestore = "backup_restore"
	DRPilotLight    = "pilot_light"
	DRWarmStandby   = "warm_standby"
	DRActiveActive  = "active_active"
)

// DefaultReplicationOverhead is the protocol overhead on replication traffic
// used when DRInput.Overhead is 0. Proposal per domain.md §2.6.
const DefaultReplicationOverhead = 0.25

// DefaultProvisionHours returns the hours a mode needs to bring compute up
// at the secondary before restoring: backup_restore 4, pilot_light 0.5,
// warm_standby 0.1, active_active 0. These are proposals placed inside the
// AWS tiers (hours, tens of minutes, minutes, near zero) [S31]; sources
// disagree on exact figures. ok is false for an unknown mode.
func DefaultProvisionHours(mode string) (hours float64, ok bool) {
	switch mode {
	case DRBackupRestore:
		return 4, true
	case DRPilotLight:
		return 0.5, true
	case DRWarmStandby:
		return 0.1, true
	case DRActiveActive:
		return 0, true
	}
	return 0, false
}

// DRInput describes a disaster-recovery pairing. Zero values take the
// defaults given per field. TB are 10¹² bytes; Gb/s are 10⁹ bits/s.
type DRInput struct {
	ChangeRateTBPerDay float64 // data changed per day at the primary
	LinkGbps           float64 // replication link between the sites
	IntervalMinutes    float64 // async replication interval; 0 = continuous
	DatasetTB          float64 // data to seed or restore at the secondary
	Overhead           float64 // protocol overhead (DefaultReplicationOverhead when 0)
	ProvisionHours     float64 // DefaultProvisionHours(Mode) when 0
	Mode               string  // "backup_restore" (default), "pilot_light", "warm_standby", "active_active"
	RPOMinutes         float64 // target: data loss the business accepts
	RTOMinutes         float64 // target: downtime the business accepts
}

// DRResult is the derived recovery behaviour of a DR pairing.
type DRResult struct {
	EffectiveRPOMinutes float64 // interval + time to ship one interval's changes
	SeedHours           float64 // time to copy the dataset over the link
	RestoreHours        float64 // SeedHours for backup_restore, 0 when pre-seeded
	RTOMinutes          float64 // provisioning + restore
	RequiredGbps        float64 // link speed the RPO target needs, overhead included
	BandwidthSufficient bool    // LinkGbps ≥ RequiredGbps
	RPOFeasible         bool    // EffectiveRPOMinutes ≤ RPOMinutes and the link keeps up
	RTOFeasible         bool    // RTOMinutes ≤ RTOMinutes target
}

// DR derives RPO, RTO and bandwidth for asynchronous replication (domain.md
// §2.6). Each interval I ships Δ = change rate × I; the effective RPO is
// I + Δ·(1+overhead)/link. To meet the RPO target the link must ship Δ
// within RPO − I, and in any case carry the mean change rate, both with
// overhead: RequiredGbps is the larger of the two. When RPO ≤ I no link
// meets the target; RequiredGbps is then the mean rate alone and
// RPOFeasible is false. When the link cannot carry the mean rate the lag
// grows without bound; EffectiveRPOMinutes then shows the first interval's
// figure and RPOFeasible is false.
//
// Only backup_restore restores data at failover (dataset / link, without
// overhead). pilot_light, warm_standby and active_active keep the
// secondary's data replicated all along, so RestoreHours is 0 and the RTO is
// provisioning alone; job restart from the last checkpoint is not included.
//
// It returns an *InputError for figures no DR link can have.
func DR(in DRInput) (DRResult, error) {
	if err := checkDR(&in); err != nil {
		return DRResult{}, err
	}
	bits := 1 + in.Overhead // wire bits per payload bit
	meanGbps := in.ChangeRateTBPerDay * 8e12 / 86400 / 1e9
	deltaGb := in.ChangeRateTBPerDay * 8e3 * in.IntervalMinutes / 1440
	var r DRResult
	r.EffectiveRPOMinutes = in.IntervalMinutes + deltaGb*bits/in.LinkGbps/60
	r.RequiredGbps = meanGbps * bits
	if window := in.RPOMinutes - in.IntervalMinutes; window > 0 {
		r.RequiredGbps = max(r.RequiredGbps, deltaGb*bits/(window*60))
	}
	keepsUp := in.LinkGbps >= meanGbps*bits
	r.BandwidthSufficient = in.LinkGbps >= r.RequiredGbps
	r.RPOFeasible = keepsUp && r.EffectiveRPOMinutes <= in.RPOMinutes
	r.SeedHours = in.DatasetTB * 8e3 / in.LinkGbps / 3600
	if in.Mode == DRBackupRestore {
		r.RestoreHours = r.SeedHours
	}
	r.RTOMinutes = (in.ProvisionHours + r.RestoreHours) * 60
	r.RTOFeasible = r.RTOMinutes <= in.RTOMinutes
	return r, nil
}

// checkDR applies defaults and rejects impossible figures.
func checkDR(in *DRInput) error {
	if in.Mode == "" {
		in.Mode = DRBackupRestore
	}
	provision, ok := DefaultProvisionHours(in.Mode)
	if !ok {
		return inputErr("mode", nil, "mode = %q is not a DR mode. Use \"backup_restore\", \"pilot_light\", \"warm_standby\" or \"active_active\".", in.Mode)
	}
	if in.ProvisionHours == 0 {
		in.ProvisionHours = provision
	}
	if in.Overhead == 0 {
		in.Overhead = DefaultReplicationOverhead
	}
	if in.LinkGbps <= 0 {
		return inputErr("link_gbps", nil, "link_gbps must be positive: the bandwidth of the replication link between the sites, such as 10.")
	}
	for _, f := range []struct {
		field, what string
		v           float64
	}{
		{"change_rate_tb_per_day", "change_rate_tb_per_day", in.ChangeRateTBPerDay},
		{"replication_interval_minutes", "replication_interval_minutes", in.IntervalMinutes},
		{"replicate", "the replicated dataset size", in.DatasetTB},
		{"rpo_minutes", "rpo_minutes", in.RPOMinutes},
		{"rto_minutes", "rto_minutes", in.RTOMinutes},
		{"", "the provisioning time", in.ProvisionHours},
		{"", "the replication overhead", in.Overhead},
	} {
		if f.v < 0 {
			return inputErr(f.field, nil, "The DR pairing has %g for %s; data sizes, rates and times cannot be negative.", f.v, f.what)
		}
	}
	return nil
}

// earthRadiusKM is the mean Earth radius.
const earthRadiusKM = 6371

// DistanceKM returns the great-circle distance between two points given in
// decimal degrees, by the haversine formula on a sphere of radius 6,371 km.
// It is within about 0.5 % of the ellipsoidal distance, plenty for a DR
// separation check.
func DistanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKM * math.Asin(math.Sqrt(min(1, a)))
}
