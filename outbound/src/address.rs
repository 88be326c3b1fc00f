//! Which IP addresses a request from the server may reach: only globally routable unicast
//! ones, unless the administrator allow-listed them (SECURITY 22).
//!
//! The tables come from the IANA special-purpose registries (RFC 6890 and its updates).
//! They are written as numbers and prefix lengths rather than parsed strings so that
//! nothing here can fail at run time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges that are never public.
const V4_BLOCKED: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network" (0.0.0.0 reaches localhost on Linux)
    (0x0a00_0000, 8),  // 10.0.0.0/8 private (RFC 1918)
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space, CGNAT (RFC 6598)
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local, cloud metadata services
    (0xac10_0000, 12), // 172.16.0.0/12 private (RFC 1918)
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2.0/24 documentation (TEST-NET-1)
    (0xc058_6300, 24), // 192.88.99.0/24 deprecated 6to4 relay anycast
    (0xc0a8_0000, 16), // 192.168.0.0/16 private (RFC 1918)
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 documentation (TEST-NET-2)
    (0xcb00_7100, 24), // 203.0.113.0/24 documentation (TEST-NET-3)
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, and 255.255.255.255 broadcast
];

/// IPv6 ranges inside global unicast (2000::/3) that are never public.
const V6_BLOCKED: &[(u128, u8)] = &[
    (0x2001_0000 << 96, 23), // 2001::/23 IETF protocol assignments, Teredo included
    (0x2001_0db8 << 96, 32), // 2001:db8::/32 documentation
    (0x3fff_0000 << 96, 20), // 3fff::/20 documentation (RFC 9637)
    (0x5f00_0000 << 96, 16), // 5f00::/16 SRv6 segment identifiers (RFC 9602)
];

/// 64:ff9b::/96, the well-known NAT64 prefix: the IPv4 address it embeds decides.
const NAT64: (u128, u8) = (0x0064_ff9b << 96, 96);
/// 2002::/16, 6to4: bits 16..48 embed an IPv4 address, which decides.
const SIX_TO_FOUR: (u128, u8) = (0x2002 << 112, 16);
/// 2000::/3, the only IPv6 space allocated for global unicast.
const GLOBAL_UNICAST: (u128, u8) = (0x2000 << 112, 3);

fn in_v4(ip: u32, (net, len): (u32, u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    ip & mask == net & mask
}

fn in_v6(ip: u128, (net, len): (u128, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    ip & mask == net & mask
}

/// Whether a server-side request may reach `ip` without an allow-list entry: a globally
/// routable unicast address. IPv4-mapped (`::ffff:a.b.c.d`), NAT64 and 6to4 addresses are
/// judged by the IPv4 address they carry; IPv4-compatible ones (`::a.b.c.d`, deprecated)
/// never pass.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !V4_BLOCKED.iter().any(|&range| in_v4(bits, range))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    if in_v6(bits, NAT64) {
        // Truncation is the point: the low 32 bits are the embedded address.
        return is_public_v4(Ipv4Addr::from(bits as u32));
    }
    if in_v6(bits, SIX_TO_FOUR) {
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    // Loopback, unspecified, IPv4-compatible, ULA (fc00::/7), link-local (fe80::/10),
    // site-local (fec0::/10) and multicast (ff00::/8) all lie outside 2000::/3.
    in_v6(bits, GLOBAL_UNICAST) && !V6_BLOCKED.iter().any(|&range| in_v6(bits, range))
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is; anything else unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:0a00:0001::",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!public(s), "{s} must not be public");
        }
    }

    #[test]
    fn global_unicast_addresses_are_public() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(public(s), "{s} must be public");
        }
    }
}
