/**
 * The subset of envoy.service.auth.v3 messages this server reads and writes, as plain objects
 * (proto-loader keepCase mapping). Field numbers and meaning: attribute_context.proto and
 * external_auth.proto in @grpc/grpc-js-xds/deps/envoy-api.
 */
export interface HttpRequestAttrs {
  id?: string;
  method?: string;
  headers?: Record<string, string>;
  header_map?: { headers?: { key?: string; value?: string; raw_value?: Buffer }[] };
  path?: string;
  host?: string;
  scheme?: string;
  protocol?: string;
  size?: number;
}

export interface PeerAttrs {
  principal?: string;
  service?: string;
  address?: { socket_address?: { address?: string; port_value?: number } };
}

export interface CheckRequest {
  attributes?: {
    source?: PeerAttrs;
    destination?: PeerAttrs;
    request?: { http?: HttpRequestAttrs };
    context_extensions?: Record<string, string>;
  };
}

export interface HeaderValueOption {
  header: { key: string; value: string };
  append: { value: boolean };
  append_action: 'OVERWRITE_IF_EXISTS_OR_ADD';
}

export interface CheckResponse {
  status: { code: number; message?: string };
  ok_response?: {
    headers: HeaderValueOption[];
    headers_to_remove: string[];
    response_headers_to_add: HeaderValueOption[];
  };
  denied_response?: {
    status: { code: number };
    headers: HeaderValueOption[];
    body: string;
  };
}
