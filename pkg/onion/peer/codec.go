// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !js

package peer

import (
	"fmt"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// codec is protobuf for grpc-go without its buffer pool. grpc-go's own
// codec copies each message into a pooled buffer of the next size class,
// and an onion packet with its framing (just over 32 KiB) lands in the
// 1 MiB class, which the pool clears on every Get: about a tenth of a
// relay's CPU went there (pkg/core/transfer's benchmark). One exact-size
// allocation per message costs far less.
type codec struct{}

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("peer: cannot marshal %T", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("peer: cannot unmarshal into %T", v)
	}
	return proto.Unmarshal(data.Materialize(), m)
}

// Name is the content subtype, as for grpc-go's codec: "proto".
func (codec) Name() string { return "proto" }
