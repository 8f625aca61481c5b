// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	sqlite3 "github.com/mutecomm/go-sqlcipher/v4"

	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/internal/secret"
)

// Errors Open returns.
var (
	// ErrWrongKey is returned when the key does not open the file: a
	// wrong key or passphrase, or a file that is not a Hush store. The
	// file is left as it was.
	ErrWrongKey = errors.New("sqlstore: the key does not open this store (wrong passphrase or keychain entry, or not a Hush store); nothing was changed")
	// ErrLocked is returned when another Store, in this process or
	// another, holds the profile.
	ErrLocked = errors.New("sqlstore: the profile is in use by another Hush process (is hush listen running?)")
	// ErrNewerSchema is returned for a store written by a newer Hush.
	ErrNewerSchema = errors.New("sqlstore: the store was written by a newer Hush; update Hush")
)

// Store is the SQLCipher store of one profile. It is safe for concurrent
// use; its calls run one at a time.
type Store struct {
	db   *sql.DB
	conn *connector
	lock *os.File
}

// Open opens (or creates) the store at path with key. A new file is
// created readable by its owner only.
func Open(ctx context.Context, path string, key *keychain.Key) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlstore: path %q is empty or contains '?'", path)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	created, err := createFile(path)
	if err != nil {
		unlockFile(lock)
		return nil, err
	}
	s, err := open(ctx, path, key, lock)
	if err != nil {
		if created {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}
		unlockFile(lock)
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, path string, key *keychain.Key, lock *os.File) (*Store, error) {
	c := &connector{path: path, drv: &sqlite3.SQLiteDriver{}}
	c.setKey(key)
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	s := &Store{db: db, conn: c, lock: lock}
	if err := db.PingContext(ctx); err != nil {
		s.close()
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// createFile creates path, empty and private, unless it exists, and
// reports whether it did.
func createFile(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: create store: %w", err)
	}
	return true, f.Close()
}

// Close closes the database and releases the profile lock.
func (s *Store) Close() error {
	err := s.close()
	unlockFile(s.lock)
	return err
}

func (s *Store) close() error {
	err := s.db.Close()
	s.conn.destroy()
	if err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// Rekey re-encrypts the whole store with k (SQLCipher's PRAGMA rekey).
// It must not be called inside a transaction. keychain.ChangePassphrase
// is the policy that calls it.
func (s *Store) Rekey(ctx context.Context, k *keychain.Key) error {
	if txOf(ctx, s) != nil {
		return errors.New("sqlstore: cannot re-key inside a transaction")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: re-key: %w", err)
	}
	defer conn.Close()
	stmt := keyPragma("rekey", k)
	defer secret.Zero(stmt)
	if _, err := conn.ExecContext(ctx, string(stmt)); err != nil {
		return fmt.Errorf("sqlstore: re-key: %w", err)
	}
	s.conn.setKey(k)
	if _, err := conn.ExecContext(ctx, checkQuery); err != nil {
		return fmt.Errorf("sqlstore: re-key: the store does not read back: %w", err)
	}
	return nil
}

var _ keychain.Rekeyer = (*Store)(nil)

// checkQuery reads the first page: with a wrong key it fails with
// SQLITE_NOTADB.
const checkQuery = "SELECT count(*) FROM sqlite_master"

// connectPragmas run on every new connection, after the key check.
var connectPragmas = []string{
	"PRAGMA journal_mode = WAL",
	"PRAGMA synchronous = FULL",
	"PRAGMA foreign_keys = ON",
}

// keyPragma returns PRAGMA name = "x'HEX'", SQLCipher's raw-key form. The
// result holds the key: zero it after use.
func keyPragma(name string, k *keychain.Key) []byte {
	b := fmt.Appendf(nil, "PRAGMA %s = \"x'", name)
	b = k.AppendHex(b)
	return append(b, "'\""...)
}

// connector opens connections with the current key, which the driver
// applies as its first statement (_pragma_key) before it reads the file.
// The key is kept here, not in a DSN that database/sql holds, and the
// connector's copy is zeroed on Close; the string the driver is given
// cannot be.
type connector struct {
	path string
	drv  *sqlite3.SQLiteDriver
	mu   sync.Mutex
	dsn  []byte // path?_pragma_key=x'HEX'
}

func (c *connector) setKey(k *keychain.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	secret.Zero(c.dsn)
	c.dsn = append(fmt.Appendf(nil, "%s?_pragma_key=x'", c.path), k.AppendHex(nil)...)
	c.dsn = append(c.dsn, '\'')
}

func (c *connector) destroy() {
	c.mu.Lock()
	defer c.mu.Unlock()
	secret.Zero(c.dsn)
	c.dsn = nil
}

// Connect implements driver.Connector.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	c.mu.Lock()
	conn, err := c.drv.Open(string(c.dsn))
	c.mu.Unlock()
	if err != nil {
		return nil, openError(err)
	}
	sc := conn.(*sqlite3.SQLiteConn)
	if err := prepare(sc); err != nil {
		sc.Close()
		return nil, err
	}
	return sc, nil
}

// openError maps SQLITE_NOTADB, which a wrong key gives at the first
// read, to ErrWrongKey.
func openError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
		return ErrWrongKey
	}
	return fmt.Errorf("sqlstore: open store: %w", err)
}

func prepare(sc *sqlite3.SQLiteConn) error {
	if _, err := sc.Exec(checkQuery, nil); err != nil {
		return openError(err)
	}
	for _, p := range connectPragmas {
		if _, err := sc.Exec(p, nil); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", p, err)
		}
	}
	return nil
}

// Driver implements driver.Connector.
func (c *connector) Driver() driver.Driver { return c.drv }
