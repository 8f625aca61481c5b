// SPDX-License-Identifier: AGPL-3.0-or-later

// Package verify computes safety numbers: the 60-digit number and the
// scannable QR payload two users compare to confirm that each holds the
// other's real identity key.
//
// The format is libsignal's, so a safety number computed here equals the one
// libsignal's NumericFingerprintGenerator computes for the same keys and
// stable identifiers:
//
//   - the digits are the version 0 display fingerprint: per side, SHA-512
//     iterated 5,200 times over the side's identity key (0x05 and the 32-byte
//     key) and its stable identifier; 30 bytes per side give 30 digits; the
//     two halves are concatenated in sorted order, so both users see the same
//     number;
//   - the QR payload is the version 1 scannable fingerprint: the
//     CombinedFingerprints protobuf with the first 32 bytes of each side's
//     hash, as in current libsignal.
//
// The stable identifier is the identity key's own text form,
// identity.PublicKey.String() ("hushid:…"); Hush has no phone numbers.
//
// Most callers want New, then String or Groups to show the number, QRCodePNG
// or QRCodeTerminal to show the code, and ScanQRCode followed by
// CompareScanned to check the other user's code.
//
// # QR codes and binary payloads
//
// The payload is raw bytes, not text. The encoder may split it into numeric,
// alphanumeric and byte segments (go-qrcode does so when a payload ends in
// 4 digits or about 6 capitals, roughly one key pair in 100,000), and a
// reader that keeps only the byte segments would lose the rest. ScanQRCode
// therefore asks the decoder to read byte segments as ISO-8859-1, which maps
// each byte to one character, and turns the whole decoded text back into
// bytes.
package verify
