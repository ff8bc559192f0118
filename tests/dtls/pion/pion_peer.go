// pion_peer is the third-party DTLS-SRTP peer of srtp-offload's interop tests: pion/dtls v2
// for the handshake and pion/srtp v2 for media, both pure Go and independent of OpenSSL.
// One UDP socket carries DTLS and SRTP, told apart by the first octet (RFC 7983 §7).
//
// It checks the other side's certificate against -fingerprint, prints the negotiated
// profile and the RFC 5764 exported keying material, then sends -srtp N RTP packets
// protected by pion/srtp and counts the other side's packets that pion/srtp authenticates
// and whose payload matches the pattern both sides use (octet j of packet seq is
// byte((seq-1)*7 + j)).
//
// Build offline from Debian packages (golang-github-pion-dtls.v2-dev, -srtp.v2-dev):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o pion_peer pion_peer.go
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/dtls/v2"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v2"
)

// udpMux hands DTLS datagrams to pion/dtls through the net.Conn interface and keeps RTP apart.
type udpMux struct {
	sock   *net.UDPConn
	mu     sync.Mutex
	peer   *net.UDPAddr
	dtlsIn chan []byte
	rtpIn  chan []byte
	done   chan struct{}
	once   sync.Once
}

func newMux(sock *net.UDPConn, peer *net.UDPAddr) *udpMux {
	m := &udpMux{sock: sock, peer: peer, dtlsIn: make(chan []byte, 128), rtpIn: make(chan []byte, 2048), done: make(chan struct{})}
	go m.readLoop()
	return m
}

func (m *udpMux) readLoop() {
	for {
		buf := make([]byte, 1500)
		n, from, err := m.sock.ReadFromUDP(buf)
		if err != nil {
			m.Close()
			return
		}
		m.mu.Lock()
		if m.peer == nil {
			m.peer = from
		}
		m.mu.Unlock()
		if n == 0 {
			continue
		}
		switch first := buf[0]; {
		case first >= 20 && first <= 63:
			m.dtlsIn <- buf[:n]
		case first >= 128 && first <= 191:
			select {
			case m.rtpIn <- buf[:n]:
			default: // full: drop, as a socket buffer would
			}
		}
	}
}

func (m *udpMux) Read(p []byte) (int, error) {
	select {
	case d := <-m.dtlsIn:
		return copy(p, d), nil
	case <-m.done:
		return 0, net.ErrClosed
	}
}

func (m *udpMux) Write(p []byte) (int, error) {
	m.mu.Lock()
	peer := m.peer
	m.mu.Unlock()
	if peer == nil {
		return 0, errors.New("peer address not known yet")
	}
	return m.sock.WriteToUDP(p, peer)
}

func (m *udpMux) Close() error {
	m.once.Do(func() { close(m.done) })
	return nil
}
func (m *udpMux) LocalAddr() net.Addr { return m.sock.LocalAddr() }
func (m *udpMux) RemoteAddr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.peer == nil {
		return &net.UDPAddr{}
	}
	return m.peer
}
func (m *udpMux) SetDeadline(time.Time) error      { return nil }
func (m *udpMux) SetReadDeadline(time.Time) error  { return nil }
func (m *udpMux) SetWriteDeadline(time.Time) error { return nil }

type profileInfo struct {
	keyLen, saltLen int
	srtp            srtp.ProtectionProfile
	hasSRTP         bool
}

var profiles = map[dtls.SRTPProtectionProfile]profileInfo{
	dtls.SRTP_AES128_CM_HMAC_SHA1_80: {16, 14, srtp.ProtectionProfileAes128CmHmacSha1_80, true},
	dtls.SRTP_AES128_CM_HMAC_SHA1_32: {16, 14, srtp.ProtectionProfileAes128CmHmacSha1_32, true},
	dtls.SRTP_AEAD_AES_128_GCM:       {16, 12, srtp.ProtectionProfileAeadAes128Gcm, true},
	dtls.SRTP_AEAD_AES_256_GCM:       {32, 12, 0, false}, // Debian's pion/srtp 2.0 lacks AES-256-GCM
}

func parseFingerprint(s string) ([]byte, error) {
	f := strings.Fields(s)
	if len(f) != 2 || !strings.EqualFold(f[0], "sha-256") {
		return nil, errors.New("want 'sha-256 AB:CD:...'")
	}
	return hex.DecodeString(strings.ReplaceAll(f[1], ":", ""))
}

func payload(seq uint16, n int) []byte {
	p := make([]byte, n)
	for j := range p {
		p[j] = byte(int(seq-1)*7 + j)
	}
	return p
}

func fail(format string, a ...interface{}) {
	fmt.Printf("error: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	mode := flag.String("mode", "server", "client or server (the DTLS role)")
	local := flag.String("local", "127.0.0.1:0", "local UDP address")
	remote := flag.String("remote", "", "peer UDP address (client mode)")
	certFile := flag.String("cert", "", "PEM certificate")
	keyFile := flag.String("key", "", "PEM private key")
	fpFlag := flag.String("fingerprint", "", "the peer's a=fingerprint value, sha-256")
	profFlag := flag.String("profiles", "0x0001", "SRTP protection profile ids in preference order")
	nSRTP := flag.Int("srtp", 0, "RTP packets to send after the handshake")
	wait := flag.Duration("wait", 3*time.Second, "how long to wait for the peer's SRTP")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fail("certificate: %v", err)
	}
	wantFP, err := parseFingerprint(*fpFlag)
	if err != nil {
		fail("fingerprint: %v", err)
	}
	var offer []dtls.SRTPProtectionProfile
	for _, s := range strings.Split(*profFlag, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 16)
		if err != nil {
			fail("profile %q: %v", s, err)
		}
		offer = append(offer, dtls.SRTPProtectionProfile(v))
	}
	laddr, err := net.ResolveUDPAddr("udp", *local)
	if err != nil {
		fail("local: %v", err)
	}
	sock, err := net.ListenUDP("udp", laddr)
	if err != nil {
		fail("listen: %v", err)
	}
	var peer *net.UDPAddr
	if *mode == "client" {
		if peer, err = net.ResolveUDPAddr("udp", *remote); err != nil {
			fail("remote: %v", err)
		}
	}
	mux := newMux(sock, peer)
	cfg := &dtls.Config{
		Certificates:           []tls.Certificate{cert},
		SRTPProtectionProfiles: offer,
		InsecureSkipVerify:     true, // self-signed: the fingerprint below is the check (RFC 5763 §5)
		ClientAuth:             dtls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no certificate")
			}
			sum := sha256.Sum256(raw[0])
			if !bytes.Equal(sum[:], wantFP) {
				return errors.New("fingerprint mismatch")
			}
			return nil
		},
	}
	fmt.Printf("listening: %s\n", sock.LocalAddr())
	var conn *dtls.Conn
	if *mode == "client" {
		conn, err = dtls.Client(mux, cfg)
	} else {
		conn, err = dtls.Server(mux, cfg)
	}
	if err != nil {
		fail("handshake: %v", err)
	}
	prof, ok := conn.SelectedSRTPProtectionProfile()
	info, known := profiles[prof]
	if !ok || !known {
		fail("no SRTP profile negotiated")
	}
	fmt.Printf("profile: 0x%04x\n", uint16(prof))
	state := conn.ConnectionState()
	km, err := state.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 2*(info.keyLen+info.saltLen))
	if err != nil {
		fail("exporter: %v", err)
	}
	fmt.Printf("keying-material: %X\n", km)
	if *nSRTP == 0 {
		time.Sleep(200 * time.Millisecond) // let a lost final flight be retransmitted
		return
	}
	if !info.hasSRTP {
		fail("pion/srtp has no SRTP transform for profile 0x%04x", uint16(prof))
	}
	// RFC 5764 §4.2: client_key | server_key | client_salt | server_salt
	k, s := info.keyLen, info.saltLen
	clientKey, serverKey := km[0:k], km[k:2*k]
	clientSalt, serverSalt := km[2*k:2*k+s], km[2*k+s:2*k+2*s]
	txKey, txSalt, rxKey, rxSalt := serverKey, serverSalt, clientKey, clientSalt
	if *mode == "client" {
		txKey, txSalt, rxKey, rxSalt = clientKey, clientSalt, serverKey, serverSalt
	}
	tx, err := srtp.CreateContext(txKey, txSalt, info.srtp)
	if err != nil {
		fail("srtp tx: %v", err)
	}
	rx, err := srtp.CreateContext(rxKey, rxSalt, info.srtp)
	if err != nil {
		fail("srtp rx: %v", err)
	}
	var good, bad int
	received := make(chan struct{})
	go func() {
		deadline := time.After(*wait + time.Duration(*nSRTP)*5*time.Millisecond)
		for {
			select {
			case pkt := <-mux.rtpIn:
				plain, err := rx.DecryptRTP(nil, pkt, nil)
				var p rtp.Packet
				if err == nil && p.Unmarshal(plain) == nil && bytes.Equal(p.Payload, payload(p.SequenceNumber, len(p.Payload))) {
					good++
				} else {
					bad++
				}
				if good >= *nSRTP {
					close(received)
					return
				}
			case <-deadline:
				close(received)
				return
			}
		}
	}()
	for i := 1; i <= *nSRTP; i++ {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i),
			Timestamp: uint32(i * 160), SSRC: 0x9e0a5eed}, Payload: payload(uint16(i), 160)}
		raw, err := p.Marshal()
		if err != nil {
			fail("rtp: %v", err)
		}
		enc, err := tx.EncryptRTP(nil, raw, nil)
		if err != nil {
			fail("srtp encrypt: %v", err)
		}
		if _, err := mux.Write(enc); err != nil {
			fail("send: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Printf("srtp-sent: %d\n", *nSRTP)
	<-received
	fmt.Printf("srtp-received: ok=%d bad=%d\n", good, bad)
	conn.Close()
}
