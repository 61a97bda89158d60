import {
  credentials,
  makeGenericClientConstructor,
  type Metadata,
  type ServiceError,
} from '@grpc/grpc-js';

/**
 * A raw gRPC client for the gateway's CreateNamespace through an Envoy listener: empty request
 * body, any metadata. Resolves with the call's error, or null when it succeeded.
 */
export function createNamespaceCaller(address: string) {
  const Client = makeGenericClientConstructor(
    {
      CreateNamespace: {
        path: '/gateway.v2.NamespaceService/CreateNamespace',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    'NamespaceService',
  );
  const client = new Client(address, credentials.createInsecure()) as unknown as {
    CreateNamespace(req: Buffer, md: Metadata, cb: (err: ServiceError | null) => void): void;
    close(): void;
  };
  return {
    call: (md: Metadata) =>
      new Promise<ServiceError | null>((resolve) =>
        client.CreateNamespace(Buffer.alloc(0), md, (err) => resolve(err)),
      ),
    close: () => client.close(),
  };
}
