// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// txKey is the context key of the transaction Transact started.
type txKey struct{}

// txState is a transaction in a context: the store it belongs to (a
// context may travel to another store) and how deep Transact is nested.
type txState struct {
	s     *Store
	tx    *sql.Tx
	depth int
}

func txOf(ctx context.Context, s *Store) *txState {
	t, _ := ctx.Value(txKey{}).(*txState)
	if t == nil || t.s != s {
		return nil
	}
	return t
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q returns the transaction in ctx, or the database.
func (s *Store) q(ctx context.Context) querier {
	if t := txOf(ctx, s); t != nil {
		return t.tx
	}
	return s.db
}

// Transact implements session.Store: fn's store calls, made with the
// context it is given, commit together or not at all. A Transact inside
// another joins it through a savepoint, so an inner failure undoes only
// the inner writes (and the outer fn decides what to do with the error).
// A panic in fn rolls back and goes on.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context) error) error {
	if t := txOf(ctx, s); t != nil {
		return s.nested(ctx, t, fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, &txState{s: s, tx: tx})); err != nil {
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

func (s *Store) nested(ctx context.Context, t *txState, fn func(ctx context.Context) error) error {
	name := fmt.Sprintf("hush_%d", t.depth+1)
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("sqlstore: savepoint: %w", err)
	}
	inner := &txState{s: s, tx: t.tx, depth: t.depth + 1}
	ok := false
	defer func() {
		if !ok {
			t.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO "+name)
			t.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE "+name)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, inner)); err != nil {
		return err
	}
	ok = true
	if _, err := t.tx.ExecContext(ctx, "RELEASE "+name); err != nil {
		return fmt.Errorf("sqlstore: release savepoint: %w", err)
	}
	return nil
}
