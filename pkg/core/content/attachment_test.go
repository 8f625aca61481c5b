// SPDX-License-Identifier: AGPL-3.0-or-later

package content

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/hushchat/hush/proto/content/v1"
)

func TestAttachmentKeyIsCarried(t *testing.T) {
	a := attachment(t, "text/plain", "notes.txt", 1)
	m, _ := New(File{Attachment: a}, now)
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	f := got.Body.(File)
	if !f.Attachment.Key.Equal(a.Key) || f.Attachment.Digest != a.Digest || f.Attachment.Size != a.Size {
		t.Fatal("attachment pointer changed in transit")
	}
}

func TestCheckFileName(t *testing.T) {
	for _, ok := range []string{"", "a", "report.pdf", "Zoë's photo 🌻.jpg", ".hidden", "..."} {
		if err := CheckFileName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{".", "..", "../../etc/passwd", "a/b", `C:\x`, "x\x00y", "evil\u202egpj.exe", "\xff", strings.Repeat("a", MaxFileName+1)} {
		if err := CheckFileName(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestAttachmentRefused(t *testing.T) {
	good := func() *contentv1.Content {
		m, _ := New(Image{Attachment: attachment(t, "image/png", "a.png", 1), Width: 10, Height: 10}, now)
		p := &contentv1.Content{Version: 1, MessageId: m.ID[:]}
		if err := setBody(p, m.Body); err != nil {
			t.Fatal(err)
		}
		return p
	}
	img := func(p *contentv1.Content) *contentv1.Image { return p.Body.(*contentv1.Content_Image).Image }
	cases := map[string]func(*contentv1.Content){
		"zero key":      func(p *contentv1.Content) { img(p).Attachment.Key = make([]byte, 32) },
		"short key":     func(p *contentv1.Content) { img(p).Attachment.Key = img(p).Attachment.Key[:16] },
		"short digest":  func(p *contentv1.Content) { img(p).Attachment.Digest = nil },
		"huge size":     func(p *contentv1.Content) { img(p).Attachment.Size = 1 << 62 },
		"mime garbage":  func(p *contentv1.Content) { img(p).Attachment.MimeType = "image" },
		"mime control":  func(p *contentv1.Content) { img(p).Attachment.MimeType = "image/png\n" },
		"path":          func(p *contentv1.Content) { img(p).Attachment.FileName = "../.bashrc" },
		"zero relay":    func(p *contentv1.Content) { img(p).Attachment.Relays[0] = make([]byte, 32) },
		"many relays":   func(p *contentv1.Content) { img(p).Attachment.Relays = make([][]byte, MaxRelays+1) },
		"no pointer":    func(p *contentv1.Content) { img(p).Attachment = nil },
		"zero width":    func(p *contentv1.Content) { img(p).Width = 0 },
		"huge height":   func(p *contentv1.Content) { img(p).Height = MaxImageSide + 1 },
		"big thumbnail": func(p *contentv1.Content) { img(p).Thumbnail = make([]byte, MaxThumbnail+1) },
		"long caption":  func(p *contentv1.Content) { img(p).Caption = strings.Repeat("c", MaxCaption+1) },
		"silent voice": func(p *contentv1.Content) {
			p.Body = &contentv1.Content_VoiceClip{VoiceClip: &contentv1.VoiceClip{Attachment: img(p).Attachment}}
		},
	}
	for name, edit := range cases {
		p := good()
		edit(p)
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	b, _ := proto.Marshal(good())
	if _, err := Unmarshal(b); err != nil {
		t.Fatalf("control: %v", err)
	}
	for name, body := range map[string]Body{
		"voice sub-ms": VoiceClip{Attachment: attachment(t, "", "", 0), Duration: time.Millisecond + 1},
		"file path":    File{Attachment: attachment(t, "", "a/b", 0)},
		"neg size":     File{Attachment: func() Attachment { a := attachment(t, "", "", 0); a.Size = -1; return a }()},
		"no key":       File{Attachment: Attachment{}},
	} {
		if _, err := Marshal(Message{Body: body}); err == nil {
			t.Errorf("Marshal accepted %s", name)
		}
	}
}
