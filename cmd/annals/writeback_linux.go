package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackEvery is how many bytes written to an export's file start
// their writeback to disk.
const writebackEvery = 32 << 20

// writeback writes to an export's file and asks the kernel to start
// writing each writebackEvery bytes to disk as soon as they are written
// (sync_file_range, SYNC_FILE_RANGE_WRITE: it does not wait for the disk),
// so that the disk works while the export maps records, and the Sync that
// ends the export (which makes the dump durable before it takes its name)
// has little left to wait for. Dirty pages no longer pile up until the
// kernel throttles the writer, either.
type writeback struct {
	f       *os.File
	written int64 // bytes written
	started int64 // bytes whose writeback was started
}

func newWriteback(f *os.File) *writeback { return &writeback{f: f} }

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.started >= writebackEvery {
		// Best effort: a file system without it writes back as before.
		_ = unix.SyncFileRange(int(w.f.Fd()), w.started, w.written-w.started, unix.SYNC_FILE_RANGE_WRITE)
		w.started = w.written
	}
	return n, err
}
