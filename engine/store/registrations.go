package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// An external-event target may register each installation in the external product
// (a register call when the installation is created) and remove it again (a
// deregister call when it is revoked). The calls are callout jobs told apart by
// their EventKind; a Registration row per installation holds their state and the ID
// the product returned. The row and the register job are written in the
// transaction that creates the installation, the deregister job in the one that
// revokes it, and each call's outcome in the transaction that settles its job
// (Outcome.Registration), so no state change is lost to a crash.

// The EventKind of the jobs that make target calls.
const (
	EventRegister   = "register"
	EventDeregister = "deregister"
)

// IsTargetCall reports whether j is a register or deregister call.
func IsTargetCall(j Job) bool {
	return j.Kind == KindCallout && (j.EventKind == EventRegister || j.EventKind == EventDeregister)
}

// RegistrationStatus is where an installation's registration stands.
type RegistrationStatus string

// The registration statuses.
const (
	RegistrationNone       RegistrationStatus = "none"       // the target declares no register call
	RegistrationPending    RegistrationStatus = "pending"    // the register call has not succeeded yet
	RegistrationRegistered RegistrationStatus = "registered" // the register call succeeded
	RegistrationFailed     RegistrationStatus = "failed"     // the register call gave up
)

// DeregistrationStatus is where an installation's deregistration stands; empty
// while the installation is active.
type DeregistrationStatus string

// The deregistration statuses.
const (
	DeregistrationPending      DeregistrationStatus = "pending"      // the deregister call is queued (or waits for the register call)
	DeregistrationDeregistered DeregistrationStatus = "deregistered" // the deregister call succeeded
	DeregistrationFailed       DeregistrationStatus = "failed"       // the deregister call gave up
	DeregistrationSkipped      DeregistrationStatus = "skipped"      // not called: the registration failed, nothing to remove
)

// Registration is the registration state of one installation (a Target).
type Registration struct {
	TargetID       string
	Status         RegistrationStatus
	RegistrationID string // the ID the external product returned; "" if none (yet)
	Error          string // why the register call failed
	RegisterJob    string // the register call's job; "" without one
	// TargetURL is the installation's URL as the engine sealed it (opaque here).
	TargetURL        []byte
	DeregisterStatus DeregistrationStatus
	DeregisterJob    string
	DeregisterError  string // why the deregister call failed or was skipped
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// RegistrationUpdate is the outcome of a register or deregister call, written by
// Settle with the call's outcome (Outcome.Registration).
type RegistrationUpdate struct {
	TargetID string
	// Deregister says the call was the deregister call: DeregisterStatus and Error
	// are written. Otherwise Status, RegistrationID and Error are, and a
	// deregister call waiting for the registration is made due at once.
	Deregister       bool
	Status           RegistrationStatus
	RegistrationID   string
	DeregisterStatus DeregistrationStatus
	Error            string
	At               time.Time
}

// SkippedDeregistration is the reason recorded when a revoked installation's
// registration had failed: there is nothing to deregister, so no call is made.
const SkippedDeregistration = "the registration failed, so there is nothing to deregister"

const registrationColumns = `target_id, status, registration_id, error, register_job, target_url,
	deregister_status, deregister_job, deregister_error, created_at, updated_at`

func scanRegistration(r rows) (Registration, error) {
	var g Registration
	err := r.Scan(&g.TargetID, &g.Status, &g.RegistrationID, &g.Error, &g.RegisterJob, &g.TargetURL,
		&g.DeregisterStatus, &g.DeregisterJob, &g.DeregisterError, &g.CreatedAt, &g.UpdatedAt)
	return g, err
}

// CreateRegisteredTarget is CreateTarget for a target with register or deregister
// calls: in the same transaction it stores the installation's registration (reg;
// its TargetID is the new target's) and enqueues register, the register call's
// job, when it is not nil (its zero fields are filled in as by Enqueue, its
// EntryID set to the target's ID). reg.Status is set to pending with a register
// job and to none without one. It returns the target and the registration as
// stored.
func (s *Store) CreateRegisteredTarget(ctx context.Context, tg Target, reg Registration, register *Job, now time.Time) (Target, Registration, error) {
	now = utc(now)
	if tg.ID == "" {
		tg.ID = NewID(TargetIDPrefix, now)
	}
	var job []Job
	reg.Status = RegistrationNone
	if register != nil {
		j := *register
		j.Kind, j.EventKind, j.EntryID = KindCallout, EventRegister, tg.ID
		job = []Job{j}
		if err := prepareJobs(job, now); err != nil {
			return Target{}, Registration{}, err
		}
		reg.Status, reg.RegisterJob = RegistrationPending, job[0].ID
	}
	reg.TargetID, reg.CreatedAt, reg.UpdatedAt = tg.ID, now, now
	reg.RegistrationID, reg.Error, reg.DeregisterStatus, reg.DeregisterJob, reg.DeregisterError = "", "", "", "", ""
	if reg.TargetURL == nil {
		reg.TargetURL = []byte{}
	}
	out, err := s.createTarget(ctx, tg, now, func(t tx, tg Target) error {
		if _, err := t.exec(ctx, "INSERT INTO target_registrations ("+registrationColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			reg.TargetID, string(reg.Status), reg.RegistrationID, reg.Error, reg.RegisterJob, reg.TargetURL,
			string(reg.DeregisterStatus), reg.DeregisterJob, reg.DeregisterError, reg.CreatedAt, reg.UpdatedAt); err != nil {
			return err
		}
		return s.insertJobs(ctx, t, job, nil, false)
	})
	if err != nil {
		return Target{}, Registration{}, err
	}
	return out, reg, nil
}

// RevokeRegisteredTarget revokes the active target id as RevokeTarget does and, in
// the same transaction, when the installation has a registration and deregister is
// not nil, decides its deregistration:
//
//   - registered (or none: no register call): deregister is enqueued, due now;
//   - pending (the register call has not ended): deregister is enqueued due at
//     now+hold, and the register call's outcome makes it due at once (Settle),
//     so it runs with the registration ID once that is known;
//   - failed: nothing is enqueued; the deregistration is skipped, with
//     SkippedDeregistration as its reason.
//
// deregister's zero fields are filled in as by Enqueue; its EntryID is set to id.
// It returns the registration as it now stands, with found false when the
// installation has none (it was created before the target declared calls).
// ErrNotFound if there is no such active target.
func (s *Store) RevokeRegisteredTarget(ctx context.Context, id string, deregister *Job, hold time.Duration, now time.Time) (reg Registration, found bool, err error) {
	if s.committer.isClosed() {
		return Registration{}, false, ErrClosed
	}
	now = utc(now)
	err = writeTx(ctx, s.db, func(t tx) error {
		reg, found = Registration{}, false
		n, err := t.exec(ctx, "UPDATE targets SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("store: target %s: %w", id, ErrNotFound)
		}
		if err := bumpRevision(ctx, t); err != nil {
			return err
		}
		// The UPDATE locks the row (PostgreSQL), so the register call's outcome,
		// settled concurrently, is ordered before or after this decision.
		reg, found, err = queryOne(ctx, t, scanRegistration, "UPDATE target_registrations SET updated_at = ? WHERE target_id = ? RETURNING "+registrationColumns, now, id)
		if err != nil || !found || deregister == nil {
			return err
		}
		if reg.Status == RegistrationFailed {
			reg.DeregisterStatus, reg.DeregisterError = DeregistrationSkipped, SkippedDeregistration
		} else {
			j := *deregister
			j.Kind, j.EventKind, j.EntryID = KindCallout, EventDeregister, id
			if reg.Status == RegistrationPending && j.NextAt.IsZero() {
				j.NextAt = now.Add(hold)
			}
			jobs := []Job{j}
			if err := prepareJobs(jobs, now); err != nil {
				return err
			}
			if err := s.insertJobs(ctx, t, jobs, nil, false); err != nil {
				return err
			}
			reg.DeregisterStatus, reg.DeregisterJob = DeregistrationPending, jobs[0].ID
		}
		reg.UpdatedAt = now
		_, err = t.exec(ctx, "UPDATE target_registrations SET deregister_status = ?, deregister_job = ?, deregister_error = ? WHERE target_id = ?",
			string(reg.DeregisterStatus), reg.DeregisterJob, reg.DeregisterError, id)
		return err
	})
	if err != nil {
		return Registration{}, false, s.registryErr("revoke target", err)
	}
	return reg, found, nil
}

// GetRegistration returns the registration of installation targetID, or
// ErrNotFound if it has none.
func (s *Store) GetRegistration(ctx context.Context, targetID string) (Registration, error) {
	return registryOne(ctx, s, "get registration", "registration of target "+targetID, scanRegistration,
		"SELECT "+registrationColumns+" FROM target_registrations WHERE target_id = ?", targetID)
}

// ListRegistrations returns every installation's registration, by target ID.
func (s *Store) ListRegistrations(ctx context.Context) (map[string]Registration, error) {
	list, err := registryAll(ctx, s, "list registrations", scanRegistration, "SELECT "+registrationColumns+" FROM target_registrations ORDER BY target_id")
	if err != nil {
		return nil, err
	}
	out := make(map[string]Registration, len(list))
	for _, g := range list {
		out[g.TargetID] = g
	}
	return out, nil
}

// updateRegistrations writes the outcomes of target calls inside Settle's
// transaction. A register outcome makes a deregister call waiting for it due now.
func updateRegistrations(ctx context.Context, t tx, regs []RegistrationUpdate) error {
	for _, u := range regs {
		at := utc(u.At)
		if u.Deregister {
			if _, err := t.exec(ctx, "UPDATE target_registrations SET deregister_status = ?, deregister_error = ?, updated_at = ? WHERE target_id = ?",
				string(u.DeregisterStatus), u.Error, at, u.TargetID); err != nil {
				return err
			}
			continue
		}
		if u.Status != RegistrationRegistered && u.Status != RegistrationFailed {
			return errors.New("store: registration " + u.TargetID + ": outcome status " + string(u.Status) + ", want registered or failed")
		}
		var waiting string
		ok, err := queryRow(ctx, t, `UPDATE target_registrations SET status = ?, registration_id = ?, error = ?, updated_at = ?
WHERE target_id = ? RETURNING deregister_job`, []any{string(u.Status), u.RegistrationID, u.Error, at, u.TargetID}, &waiting)
		if err != nil {
			return err
		}
		if ok && waiting != "" {
			if _, err := t.exec(ctx, "UPDATE jobs SET next_at = ? WHERE id = ? AND status = 'pending' AND next_at > ?", at, waiting, at); err != nil {
				return err
			}
		}
	}
	return nil
}
