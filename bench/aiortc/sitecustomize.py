# Loaded by the aiortc worker of the benchmark (bench/clients.js puts this directory on its
# PYTHONPATH). aioice never gathers 127.0.0.1, the only address of the benchmark's
# loopback-only network namespace: without this, mediasoup-client-aiortc's transports would
# have no candidate there. Nothing else of aiortc is changed.
try:
    import aioice.ice

    def _loopback_host_addresses(use_ipv4, use_ipv6):
        return ["127.0.0.1"] if use_ipv4 else []

    aioice.ice.get_host_addresses = _loopback_host_addresses
except ImportError:
    pass
