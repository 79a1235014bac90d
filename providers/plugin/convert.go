package plugin

import (
	"github.com/fabrica-iac/fabrica/providers"
	pb "github.com/fabrica-iac/fabrica/providers/proto/v1"
)

// This file converts between the Go types of package providers and the protocol's
// messages. Attrs are passed through as they are: proto's bytes are the JSON bytes.
// A value outside an enum's known set (a future Action, say) becomes the zero value of
// the other side ("" or UNSPECIFIED), which the receiver rejects as it would any invalid
// value.

// attrs turns received bytes back into Attrs, keeping nil for "none".
func attrs(b []byte) providers.Attrs {
	if len(b) == 0 {
		return nil
	}
	return providers.Attrs(b)
}

func severityToProto(s providers.Severity) pb.Severity {
	switch s {
	case providers.SeverityError:
		return pb.Severity_SEVERITY_ERROR
	case providers.SeverityWarning:
		return pb.Severity_SEVERITY_WARNING
	}
	return pb.Severity_SEVERITY_UNSPECIFIED
}

func severityFromProto(s pb.Severity) providers.Severity {
	switch s {
	case pb.Severity_SEVERITY_ERROR:
		return providers.SeverityError
	case pb.Severity_SEVERITY_WARNING:
		return providers.SeverityWarning
	}
	return ""
}

func diagsToProto(ds []providers.Diagnostic) []*pb.Diagnostic {
	if len(ds) == 0 {
		return nil
	}
	out := make([]*pb.Diagnostic, len(ds))
	for i, d := range ds {
		out[i] = &pb.Diagnostic{
			Severity:  severityToProto(d.Severity),
			Summary:   d.Summary,
			Detail:    d.Detail,
			Attribute: d.Attribute,
		}
	}
	return out
}

func diagsFromProto(ds []*pb.Diagnostic) []providers.Diagnostic {
	if len(ds) == 0 {
		return nil
	}
	out := make([]providers.Diagnostic, len(ds))
	for i, d := range ds {
		out[i] = providers.Diagnostic{
			Severity:  severityFromProto(d.GetSeverity()),
			Summary:   d.GetSummary(),
			Detail:    d.GetDetail(),
			Attribute: d.GetAttribute(),
		}
	}
	return out
}

func infoToProto(r providers.InfoResponse) *pb.InfoResponse {
	out := &pb.InfoResponse{Name: r.Name, Version: r.Version, Kinds: r.Kinds}
	for _, c := range r.Config {
		out.Config = append(out.Config, &pb.ConfigAttr{Name: c.Name, Type: c.Type, Required: c.Required, Doc: c.Doc})
	}
	if len(r.Sensitive) > 0 {
		out.Sensitive = make(map[string]*pb.AttributeNames, len(r.Sensitive))
		for kind, names := range r.Sensitive {
			out.Sensitive[kind] = &pb.AttributeNames{Names: names}
		}
	}
	return out
}

func infoFromProto(r *pb.InfoResponse) providers.InfoResponse {
	out := providers.InfoResponse{Name: r.GetName(), Version: r.GetVersion(), Kinds: r.GetKinds()}
	for _, c := range r.GetConfig() {
		out.Config = append(out.Config, providers.ConfigAttr{Name: c.GetName(), Type: c.GetType(), Required: c.GetRequired(), Doc: c.GetDoc()})
	}
	if len(r.GetSensitive()) > 0 {
		out.Sensitive = make(map[string][]string, len(r.GetSensitive()))
		for kind, names := range r.GetSensitive() {
			out.Sensitive[kind] = names.GetNames()
		}
	}
	return out
}

// The batch conversions below allocate each chunk's messages in one slice: at 100,000
// items, one allocation per message is most of the conversion's cost.

func readItemsToProto(items []providers.ReadItem) []*pb.ReadItem {
	msgs := make([]pb.ReadItem, len(items))
	out := make([]*pb.ReadItem, len(items))
	for i, it := range items {
		m := &msgs[i]
		m.Address, m.Kind, m.Id, m.PriorHash = it.Address, it.Kind, it.ID, it.PriorHash
		out[i] = m
	}
	return out
}

func readItemsFromProto(dst []providers.ReadItem, items []*pb.ReadItem) []providers.ReadItem {
	for _, it := range items {
		dst = append(dst, providers.ReadItem{Address: it.GetAddress(), Kind: it.GetKind(), ID: it.GetId(), PriorHash: it.GetPriorHash()})
	}
	return dst
}

func readResultsToProto(rs []providers.ReadResult) []*pb.ReadResult {
	msgs := make([]pb.ReadResult, len(rs))
	out := make([]*pb.ReadResult, len(rs))
	for i, r := range rs {
		m := &msgs[i]
		m.Address, m.Gone, m.Unchanged, m.Attrs, m.Hash = r.Address, r.Gone, r.Unchanged, r.Attrs, r.Hash
		m.Diagnostics = diagsToProto(r.Diagnostics)
		out[i] = m
	}
	return out
}

func readResultsFromProto(dst []providers.ReadResult, rs []*pb.ReadResult) []providers.ReadResult {
	for _, r := range rs {
		dst = append(dst, providers.ReadResult{
			Address:     r.GetAddress(),
			Gone:        r.GetGone(),
			Unchanged:   r.GetUnchanged(),
			Attrs:       attrs(r.GetAttrs()),
			Hash:        r.GetHash(),
			Diagnostics: diagsFromProto(r.GetDiagnostics()),
		})
	}
	return dst
}

func planItemsToProto(items []providers.PlanItem) []*pb.PlanItem {
	msgs := make([]pb.PlanItem, len(items))
	out := make([]*pb.PlanItem, len(items))
	for i, it := range items {
		m := &msgs[i]
		m.Address, m.Kind, m.Id, m.Prior, m.Desired = it.Address, it.Kind, it.ID, it.Prior, it.Desired
		out[i] = m
	}
	return out
}

func planItemsFromProto(dst []providers.PlanItem, items []*pb.PlanItem) []providers.PlanItem {
	for _, it := range items {
		dst = append(dst, providers.PlanItem{
			Address: it.GetAddress(),
			Kind:    it.GetKind(),
			ID:      it.GetId(),
			Prior:   attrs(it.GetPrior()),
			Desired: attrs(it.GetDesired()),
		})
	}
	return dst
}

func plannedToProto(cs []providers.PlannedChange) []*pb.PlannedChange {
	msgs := make([]pb.PlannedChange, len(cs))
	out := make([]*pb.PlannedChange, len(cs))
	for i, c := range cs {
		m := &msgs[i]
		m.Address, m.Planned, m.Unknown, m.RequiresReplace, m.Reason = c.Address, c.Planned, c.Unknown, c.RequiresReplace, c.Reason
		m.Diagnostics = diagsToProto(c.Diagnostics)
		out[i] = m
	}
	return out
}

func plannedFromProto(dst []providers.PlannedChange, cs []*pb.PlannedChange) []providers.PlannedChange {
	for _, c := range cs {
		dst = append(dst, providers.PlannedChange{
			Address:         c.GetAddress(),
			Planned:         attrs(c.GetPlanned()),
			Unknown:         c.GetUnknown(),
			RequiresReplace: c.GetRequiresReplace(),
			Reason:          c.GetReason(),
			Diagnostics:     diagsFromProto(c.GetDiagnostics()),
		})
	}
	return dst
}

func actionToProto(a providers.Action) pb.Action {
	switch a {
	case providers.ActionCreate:
		return pb.Action_ACTION_CREATE
	case providers.ActionUpdate:
		return pb.Action_ACTION_UPDATE
	case providers.ActionDelete:
		return pb.Action_ACTION_DELETE
	}
	return pb.Action_ACTION_UNSPECIFIED
}

func actionFromProto(a pb.Action) providers.Action {
	switch a {
	case pb.Action_ACTION_CREATE:
		return providers.ActionCreate
	case pb.Action_ACTION_UPDATE:
		return providers.ActionUpdate
	case pb.Action_ACTION_DELETE:
		return providers.ActionDelete
	}
	return ""
}

func changeToProto(c providers.Change) *pb.Change {
	return &pb.Change{
		Address:   c.Address,
		Kind:      c.Kind,
		Action:    actionToProto(c.Action),
		Id:        c.ID,
		Prior:     c.Prior,
		Planned:   c.Planned,
		Replacing: c.Replacing,
	}
}

func changeFromProto(c *pb.Change) providers.Change {
	return providers.Change{
		Address:   c.GetAddress(),
		Kind:      c.GetKind(),
		Action:    actionFromProto(c.GetAction()),
		ID:        c.GetId(),
		Prior:     attrs(c.GetPrior()),
		Planned:   attrs(c.GetPlanned()),
		Replacing: c.GetReplacing(),
	}
}

var eventTypes = [...]struct {
	g providers.EventType
	p pb.EventType
}{
	{providers.EventStarted, pb.EventType_EVENT_TYPE_STARTED},
	{providers.EventProgress, pb.EventType_EVENT_TYPE_PROGRESS},
	{providers.EventLog, pb.EventType_EVENT_TYPE_LOG},
	{providers.EventDone, pb.EventType_EVENT_TYPE_DONE},
	{providers.EventFailed, pb.EventType_EVENT_TYPE_FAILED},
}

func eventToProto(e providers.Event) *pb.Event {
	m := &pb.Event{
		Address:     e.Address,
		Stage:       e.Stage,
		Message:     e.Message,
		Id:          e.ID,
		New:         e.New,
		Diagnostics: diagsToProto(e.Diagnostics),
	}
	for _, t := range eventTypes {
		if t.g == e.Type {
			m.Type = t.p
		}
	}
	return m
}

func eventFromProto(e *pb.Event) providers.Event {
	ev := providers.Event{
		Address:     e.GetAddress(),
		Stage:       e.GetStage(),
		Message:     e.GetMessage(),
		ID:          e.GetId(),
		New:         attrs(e.GetNew()),
		Diagnostics: diagsFromProto(e.GetDiagnostics()),
	}
	for _, t := range eventTypes {
		if t.p == e.GetType() {
			ev.Type = t.g
		}
	}
	return ev
}

// Chunk limits. A chunk ends at maxChunkItems items or once its estimated size passes
// maxChunkBytes, whichever comes first, so a message stays far below gRPC's default
// 4 MiB limit; only a single item larger than that needs the raised limits of Launch
// and Serve (maxMsgSize).
const (
	maxChunkItems = 2000
	maxChunkBytes = 1 << 20
	// itemOverhead approximates an item's tags, lengths and small fields.
	itemOverhead = 16
	// maxMsgSize is the message limit the plugin client and server set, for the one
	// huge item a chunk cannot split.
	maxMsgSize = 256 << 20
)

// eachChunk calls send with consecutive slices of items, each within the chunk limits;
// size estimates an item's encoded size. It sends nothing for no items.
func eachChunk[T any](items []T, size func(*T) int, send func([]T) error) error {
	start, bytes := 0, 0
	for i := range items {
		bytes += size(&items[i]) + itemOverhead
		if i+1-start >= maxChunkItems || bytes >= maxChunkBytes {
			if err := send(items[start : i+1]); err != nil {
				return err
			}
			start, bytes = i+1, 0
		}
	}
	if start < len(items) {
		return send(items[start:])
	}
	return nil
}

func diagSize(d *providers.Diagnostic) int {
	return len(d.Summary) + len(d.Detail) + len(d.Attribute)
}

func diagsSize(ds []providers.Diagnostic) int {
	n := 0
	for i := range ds {
		n += diagSize(&ds[i]) + itemOverhead
	}
	return n
}

func stringsSize(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s) + 2
	}
	return n
}

func readItemSize(it *providers.ReadItem) int {
	return len(it.Address) + len(it.Kind) + len(it.ID) + len(it.PriorHash)
}

func readResultSize(r *providers.ReadResult) int {
	return len(r.Address) + len(r.Attrs) + len(r.Hash) + diagsSize(r.Diagnostics)
}

func planItemSize(it *providers.PlanItem) int {
	return len(it.Address) + len(it.Kind) + len(it.ID) + len(it.Prior) + len(it.Desired)
}

func plannedSize(c *providers.PlannedChange) int {
	return len(c.Address) + len(c.Planned) + stringsSize(c.Unknown) + stringsSize(c.RequiresReplace) + diagsSize(c.Diagnostics)
}

func changeSize(c *providers.Change) int {
	return len(c.Address) + len(c.Kind) + len(c.ID) + len(c.Prior) + len(c.Planned)
}

func eventSize(e *providers.Event) int {
	return len(e.Address) + len(e.Stage) + len(e.Message) + len(e.ID) + len(e.New) + diagsSize(e.Diagnostics)
}
