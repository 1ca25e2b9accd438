package controlplane

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// clusterDomain is the DNS suffix of Services, as in every cluster.
const clusterDomain = "cluster.local"

// clusterDNS is the node's cluster DNS, CoreDNS's job in a cluster: it
// answers A queries for <service>.<namespace>.svc.cluster.local with the
// Service's ClusterIP, read from the API server, and NXDOMAIN for any other
// name (Pods reach nothing outside the sandbox anyway). kubelet points Pods'
// resolv.conf at it (clusterDNS), so software in Pods, such as Triggers'
// EventListener calling an interceptor by its Service name, resolves names
// as it would in a cluster.
type clusterDNS struct {
	conn   net.PacketConn
	client kubernetes.Interface
	done   chan struct{}
}

func startClusterDNS(client kubernetes.Interface) (*clusterDNS, error) {
	conn, err := net.ListenPacket("udp", hostPort(NodeIP, 53))
	if err != nil {
		return nil, err
	}
	d := &clusterDNS{conn: conn, client: client, done: make(chan struct{})}
	go d.serve()
	return d, nil
}

func (d *clusterDNS) close() {
	d.conn.Close()
	<-d.done
}

func (d *clusterDNS) serve() {
	defer close(d.done)
	buf := make([]byte, 512)
	for {
		n, addr, err := d.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if resp := d.answer(buf[:n]); resp != nil {
			_, _ = d.conn.WriteTo(resp, addr)
		}
	}
}

// answer builds the response to one query, or nil for a malformed one.
func (d *clusterDNS) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	name, end, ok := readName(q, 12)
	if !ok || end+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[end : end+2])
	question := q[12 : end+4]
	ip, found := d.lookup(name)
	resp := make([]byte, 12, 12+len(question)+16)
	copy(resp[0:2], q[0:2])
	flags := uint16(0x8400) | binary.BigEndian.Uint16(q[2:4])&0x0100 // QR, AA, copy RD
	if !found {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(resp[2:4], flags)
	binary.BigEndian.PutUint16(resp[4:6], 1)
	resp = append(resp, question...)
	if found && qtype == 1 {
		binary.BigEndian.PutUint16(resp[6:8], 1)
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4)
		resp = append(resp, ip.To4()...)
	}
	return resp
}

// lookup resolves <service>.<namespace>.svc.cluster.local.
func (d *clusterDNS) lookup(name string) (net.IP, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	rest, ok := strings.CutSuffix(name, ".svc."+clusterDomain)
	if !ok {
		return nil, false
	}
	svc, ns, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(ns, ".") {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := d.client.CoreV1().Services(ns).Get(ctx, svc, metav1.GetOptions{})
	if err != nil {
		return nil, false
	}
	ip := net.ParseIP(s.Spec.ClusterIP).To4()
	return ip, ip != nil
}

// readName reads a DNS name (no compression: queries carry none) at off.
func readName(b []byte, off int) (string, int, bool) {
	var labels []string
	for off < len(b) {
		l := int(b[off])
		off++
		if l == 0 {
			return strings.Join(labels, "."), off, true
		}
		if l > 63 || off+l > len(b) {
			return "", 0, false
		}
		labels = append(labels, string(b[off:off+l]))
		off += l
	}
	return "", 0, false
}
