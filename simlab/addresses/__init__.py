"""Addresses: client networks (CIDR, single, from-to ranges) and mail addresses."""

from simlab.addresses.mail import AddressSyntaxError, MailAddress, MailPath, is_valid_domain, parse_address, parse_path
from simlab.addresses.networks import AddressRange, ClientNetworks, IPAddress, parse_ip, parse_range
from simlab.addresses.routing import Destination, LastDomainResolver, PostfixResolver, Resolution, domain_list

__all__ = [
    "AddressRange", "AddressSyntaxError", "ClientNetworks", "Destination", "IPAddress", "LastDomainResolver",
    "MailAddress", "MailPath", "PostfixResolver", "Resolution", "domain_list", "is_valid_domain", "parse_address",
    "parse_ip", "parse_path", "parse_range",
]
