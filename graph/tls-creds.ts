// NBD over TLS, as far as the graph sees it: which credentials a server or a client takes, and
// whether the two sides of a connection agree about TLS. The handshake itself (certificates,
// PSK, anonymous Diffie-Hellman) is not modelled: the model knows credentials objects by QOM type
// and endpoint only (crypto/tlscreds.c), and an NBD connection succeeds where both sides use TLS
// or neither does (iotests tests/nbd-tls-iothread, done with tls-creds-anon).
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';

/** The QOM types deriving from TYPE_QCRYPTO_TLS_CREDS. */
const TLS_CREDS_TYPES = new Set(['tls-creds-anon', 'tls-creds-psk', 'tls-creds-x509']);

/**
 * nbd_get_tls_creds (blockdev-nbd.c for the server, block/nbd.c for a client; the same checks):
 * the object by id under /objects, a TYPE_QCRYPTO_TLS_CREDS, then
 * qcrypto_tls_creds_check_endpoint against the side asking (a credentials object's `endpoint`
 * defaults to client).
 */
export function nbdGetTlsCreds(p: Proc, id: string, endpoint: 'server' | 'client'): void {
  const obj = p.object(id);
  if (!obj) throw new QmpError(`No TLS credentials with id '${id}'`);
  if (!TLS_CREDS_TYPES.has(obj.qomType)) throw new QmpError(`Object with id '${id}' is not TLS credentials`);
  const have = String(obj.props.endpoint ?? 'client');
  if (have !== endpoint) throw new QmpError(`Expected TLS credentials for a ${endpoint} endpoint`);
}

/** NBD_OPT_STARTTLS and NBD_OPT_GO, as nbd_opt_lookup names them. */
const NBD_OPT_STARTTLS = 5;
const NBD_OPT_GO = 7;

/**
 * The option haggling of a connection (nbd_start_negotiate / nbd_negotiate_options) as far as TLS
 * decides it: a server with tlscreds answers every option of a client that did not start TLS with
 * NBD_REP_ERR_TLS_REQD, which the client reports at its NBD_OPT_GO (its structured-reply request
 * is not strict); a client with tlscreds asks NBD_OPT_STARTTLS of a server without, which answers
 * NBD_REP_ERR_POLICY ("TLS not configured"): nbd_handle_reply_err.
 */
export function nbdTlsNegotiation(serverTls: boolean, clientTls: boolean): void {
  if (serverTls && !clientTls) throw new QmpError(`TLS negotiation required before option ${NBD_OPT_GO} (go)`);
  if (clientTls && !serverTls) throw new QmpError(`Denied by server for option ${NBD_OPT_STARTTLS} (starttls)`);
}
