package states

import (
	"context"
	"fmt"
)

// Migrate copies the state stored in from to to, as `fabrica init --migrate-state`
// does when the backend changes (local to pg and back). It locks both (waiting as
// Lock does if ctx has a deadline), loads from, and pushes that state to to unchanged:
// same lineage, serial, outputs and instances, so a migration there and back gives
// the same state file byte for byte.
//
// It refuses, unless force is set, when to already holds a state of another lineage,
// a newer serial of the same lineage, or the same serial with other content. When from
// holds no state Migrate does nothing and returns nil. from is left as it was.
func Migrate(ctx context.Context, from, to Backend, force bool) (err error) {
	unlock := func(b Backend, id string) {
		if uerr := b.Unlock(context.WithoutCancel(ctx), id); uerr != nil && err == nil {
			err = fmt.Errorf("releasing a lock after migrating: %w", uerr)
		}
	}
	fromID, err := from.Lock(ctx, NewLockInfo("migrate-state"))
	if err != nil {
		return fmt.Errorf("locking the source state: %w", err)
	}
	defer unlock(from, fromID)
	s, err := from.Load(ctx)
	if err != nil {
		return fmt.Errorf("reading the source state: %w", err)
	}
	if s.Lineage == "" {
		return nil
	}
	toID, err := to.Lock(ctx, NewLockInfo("migrate-state"))
	if err != nil {
		return fmt.Errorf("locking the target state: %w", err)
	}
	defer unlock(to, toID)
	cur, err := to.Load(ctx)
	if err != nil {
		return fmt.Errorf("reading the target state: %w", err)
	}
	if err := checkMigrate(cur, s, force); err != nil {
		return err
	}
	if err := to.Push(ctx, s, force); err != nil {
		return fmt.Errorf("writing the target state: %w", err)
	}
	return nil
}

func checkMigrate(cur, s *State, force bool) error {
	if force || cur.Lineage == "" {
		return nil
	}
	held := fmt.Sprintf("lineage %s, serial %d, %d resource instances", cur.Lineage, cur.Serial, cur.Len())
	switch {
	case cur.Lineage != s.Lineage:
		return fmt.Errorf("cannot migrate the state: the target backend already holds another state (%s) than the one being migrated (lineage %s); use --force to replace it",
			held, s.Lineage)
	case cur.Serial > s.Serial:
		return fmt.Errorf("cannot migrate the state: the target backend holds a newer version of it (%s) than the source (serial %d); use --force to replace it",
			held, s.Serial)
	case cur.Serial == s.Serial && !cur.SameContent(s):
		return fmt.Errorf("cannot migrate the state: the target backend holds serial %d of it with other content (%s); use --force to replace it",
			cur.Serial, held)
	}
	return nil
}
