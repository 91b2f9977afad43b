package setting

import "fmt"

// DefaultBodyMinRate is [server] BodyMinRate's default, in bytes per second: a phone on a
// poor link sends faster; a client that trickles a body to hold a connection does not.
const DefaultBodyMinRate = 1024

// Descriptors kept out of the automatic connection cap (see ConnCap): the log, the
// listeners, the admin listener and its clients, health checks sent while the cap is reached,
// DNS and the files the runtime opens.
const reservedFiles = 64

// ConnCap is the connection cap in effect when the process may hold openFiles descriptors
// (its RLIMIT_NOFILE; 0: unknown, e.g. on Windows): [server] MaxConns when it is set, or
// else what openFiles leaves once the database pool and reservedFiles are kept aside, so
// that a flood of connections never makes the database, the log or the admin port fail to
// open a file. 0 means no cap (the limit is unknown).
func (s Settings) ConnCap(openFiles uint64) (int, error) {
	if openFiles == 0 {
		return s.Server.MaxConns, nil
	}
	reserve := uint64(reservedFiles + s.DatabaseFiles()) //nolint:gosec // G115: small counts, never negative (Validate refuses a negative MaxOpenConns)
	if openFiles <= reserve+16 {
		return 0, fmt.Errorf("[server] MaxConns: the open-file limit %d leaves no room for connections once %d descriptors are kept for the database, the log and the admin port; raise it (ulimit -n, systemd's LimitNOFILE=)", openFiles, reserve)
	}
	room := openFiles - reserve
	if s.Server.MaxConns == 0 {
		return int(min(room, 1<<30)), nil
	}
	if uint64(s.Server.MaxConns) > room { //nolint:gosec // G115: MaxConns is not negative here (Validate refuses it)
		return 0, fmt.Errorf("[server] MaxConns %d is more than the open-file limit %d allows once %d descriptors are kept for the database, the log and the admin port; set at most %d, or 0 (automatic), or raise the limit", s.Server.MaxConns, openFiles, reserve, room)
	}
	return s.Server.MaxConns, nil
}

// SQLiteConns is how many connections a SQLite database holds at most, which models.Open
// makes true: with [database] SingleWriter, the writer, the checkpointer and a read pool of
// SQLiteConns-2; without, its one pool.
const SQLiteConns = 16

// DatabaseFiles is how many descriptors the database may hold: each connection keeps the
// database file and its -wal file open, and a process's connections share one -shm file.
func (s Settings) DatabaseFiles() int { return 2*SQLiteConns + 1 }
