package server

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec requestCodec wraps
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// grpc-go answers a request it cannot decode (broken wire format, invalid
// UTF-8 in a string field) with Internal, and before any interceptor runs.
// That is the client's fault, not the server's, so requestCodec decodes such
// a request into an empty message carrying a marker, an unknown field with a
// description of the problem; the interceptors (decodeUnary, decodeStream)
// find the marker and answer InvalidArgument saying what is wrong.

// decodeMarkerField is the field number of the marker: the largest valid
// one, which no Annals message uses. A client that sends it itself only gets
// InvalidArgument.
const decodeMarkerField protowire.Number = protowire.MaxValidNumber

// requestCodec is grpc's proto codec, except for undecodable requests and
// for List answers, whose buffers hold their share of the list budget until
// the connection has written them (listbudget.go).
type requestCodec struct {
	base  encoding.CodecV2
	lists *listBudget // nil: unbounded
}

func newRequestCodec(lists *listBudget) requestCodec {
	return requestCodec{base: encoding.GetCodecV2("proto"), lists: lists}
}

func (c requestCodec) Name() string { return c.base.Name() }

func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(proto.Message); ok {
		if s := c.lists.take(v); s != nil {
			return s.marshal(m)
		}
	}
	return c.base.Marshal(v)
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	md := m.ProtoReflect().Descriptor()
	// The marker holds the field at fault (if known), a newline, and what is wrong.
	marker := "\n" + fmt.Sprintf("not a valid %s in protobuf wire format", md.FullName())
	if field, ok := invalidUTF8Field(data.Materialize(), md, ""); ok {
		marker = field + "\nnot valid UTF-8; string fields must be UTF-8"
	}
	proto.Reset(m)
	b := protowire.AppendTag(nil, decodeMarkerField, protowire.BytesType)
	m.ProtoReflect().SetUnknown(protowire.AppendString(b, marker))
	return nil
}

// checkDecoded returns a *decodeError when requestCodec marked req as undecodable.
func checkDecoded(req any) error {
	marker, ok := decodeProblem(req)
	if !ok {
		return nil
	}
	field, desc, _ := strings.Cut(marker, "\n")
	return &decodeError{field: clip(field), desc: clip(desc)}
}

// decodeProblem returns the marker requestCodec left in req, if any.
func decodeProblem(req any) (string, bool) {
	m, ok := req.(proto.Message)
	if !ok {
		return "", false
	}
	b := m.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
		if num == decodeMarkerField && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", false
			}
			return string(v), true
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
	}
	return "", false
}

// decodeError is a request requestCodec could not decode: field (when
// known) is the path of the field at fault.
type decodeError struct{ field, desc string }

func (e *decodeError) Error() string {
	if e.field == "" {
		return "malformed request: " + e.desc
	}
	return "malformed request: " + e.field + ": " + e.desc
}

// invalidUTF8Field finds, in the encoding b of a md, the path of the first
// string field that is not valid UTF-8.
func invalidUTF8Field(b []byte, md protoreflect.MessageDescriptor, prefix string) (string, bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return "", false
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if fd == nil {
			continue
		}
		path := prefix + string(fd.Name())
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			return path, true
		case fd.Kind() == protoreflect.MessageKind:
			if p, ok := invalidUTF8Field(v, fd.Message(), path+"."); ok {
				return p, true
			}
		}
	}
	return "", false
}
