"""Writes a tiny MMDB file in one of the schemas rua reads, for tests/enrich.rs.

usage: write_mmdb.py SCHEMA OUT [BUILD_EPOCH]
SCHEMA: ipinfo-lite | geolite2-asn | geolite2-country | dbip-city-lite
Networks are from the documentation ranges; BUILD_EPOCH (seconds) defaults to now.
"""
import sys
import time

from mmdb_writer import MMDBWriter
from netaddr import IPSet

SCHEMAS = {
    "ipinfo-lite": ("ipinfo lite.mmdb", [
        ("192.0.2.0/24", {"asn": "AS64496", "as_name": "Example Networks", "as_domain": "example.net",
                          "country_code": "NL", "country": "Netherlands", "continent": "Europe",
                          "continent_code": "EU"}),
        ("2001:db8::/32", {"asn": "AS64497", "as_name": "Example Six", "as_domain": "example.org",
                           "country_code": "DE", "country": "Germany", "continent": "Europe",
                           "continent_code": "EU"}),
    ]),
    "geolite2-asn": ("GeoLite2-ASN", [
        ("198.51.100.0/24", {"autonomous_system_number": 64500,
                             "autonomous_system_organization": "Documentation Transit"}),
    ]),
    "geolite2-country": ("GeoLite2-Country", [
        ("198.51.100.0/24", {"country": {"iso_code": "FR", "names": {"en": "France"}},
                             "registered_country": {"iso_code": "FR", "names": {"en": "France"}}}),
    ]),
    "dbip-city-lite": ("DBIP-City-Lite", [
        ("203.0.113.0/24", {"city": {"names": {"en": "Tokyo"}},
                            "registered_country": {"iso_code": "jp", "names": {"en": "Japan"}}}),
    ]),
}


def main():
    schema, out = sys.argv[1], sys.argv[2]
    epoch = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
    database_type, networks = SCHEMAS[schema]
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=database_type,
                        description={"en": f"rua test {schema}"})
    for network, record in networks:
        writer.insert_network(IPSet([network]), record)
    real_time = time.time
    time.time = lambda: epoch  # the writer stamps build_epoch with time.time()
    try:
        writer.to_db_file(out)
    finally:
        time.time = real_time


if __name__ == "__main__":
    main()
