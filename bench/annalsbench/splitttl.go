package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
)

// splitTTL cuts a Turtle file written by annals export into parts of at
// most about max bytes, each a Turtle document of its own: every part
// starts with the @prefix directives seen so far, and a part ends only
// where a statement ends (a line ending in " ." followed by a line that
// starts a new subject). It prints the parts' paths, one a line.
//
// It exists because rapper (Raptor 2.0.15) reads a whole Turtle document
// into one flex buffer and fails above 2 GiB ("out of dynamic memory in
// turtle_lexer__scan_bytes()", with exit status 0), so scripts/bench feeds
// it the 1 000 000-event dump in parts. The triples of the parts add up
// to the file's.
func splitTTL(_ context.Context, args []string) error {
	fs := newFlags("splitttl")
	maxBytes := fs.Int64("max", 1<<30, "largest part, in bytes (about)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: annalsbench splitttl [--max BYTES] FILE.ttl")
	}
	path := fs.Arg(0)
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	r := bufio.NewReaderSize(in, 1<<20)
	var prefixes bytes.Buffer
	var out *os.File
	var w *bufio.Writer
	var written int64
	n := 0
	open := func() error {
		if out != nil {
			if err := w.Flush(); err != nil {
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
		n++
		name := fmt.Sprintf("%s.part%d", path, n)
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		fmt.Println(name)
		out, w = f, bufio.NewWriterSize(f, 1<<20)
		if n > 1 {
			if _, err := w.Write(prefixes.Bytes()); err != nil {
				return err
			}
		}
		written = int64(prefixes.Len())
		return nil
	}
	if err := open(); err != nil {
		return err
	}
	statementEnded := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			startsSubject := line[0] != '\t' && line[0] != ' ' && line[0] != '\n'
			if bytes.HasPrefix(line, []byte("@prefix")) {
				prefixes.Write(line)
			} else if startsSubject && statementEnded && written >= *maxBytes {
				if err := open(); err != nil {
					return err
				}
			}
			if _, err := w.Write(line); err != nil {
				return err
			}
			written += int64(len(line))
			statementEnded = bytes.HasSuffix(bytes.TrimRight(line, "\r\n \t"), []byte(" ."))
		}
		if err != nil {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}
