import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { fileURLToPath } from 'node:url';
import { JwtExtendedModule, type JwtExtendedLoaders, JwtExtendedService } from '../../lib/index.js';
import { SECRET, TOKEN_CACHE } from '../support/app.js';
import { freePort } from '../support/redis-server.js';

export const PROTO_PATH = fileURLToPath(new URL('./auth.proto', import.meta.url));

export interface RpcAppSetup {
  transport: 'tcp' | 'grpc';
  controllers: Type[];
  loaders?: JwtExtendedLoaders;
  globalGuard?: boolean;
  module?: DynamicModule;
}

export interface RpcTestApp {
  app: INestMicroservice;
  jwt: JwtExtendedService;
  port: number;
  close(): Promise<void>;
}

/** A real microservice (NestFactory.createMicroservice's path) listening on a free loopback port. */
export async function createRpcApp(setup: RpcAppSetup): Promise<RpcTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      setup.module ??
        JwtExtendedModule.forRoot({ secretKey: SECRET, ...TOKEN_CACHE, loaders: setup.loaders, globalGuard: setup.globalGuard }),
    ],
    controllers: setup.controllers,
  }).compile();
  const port = await freePort();
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({ ...transportOptions(setup.transport, port), logger: false });
  await app.listen();
  return { app, jwt: app.get(JwtExtendedService), port, close: () => app.close() };
}

export function transportOptions(transport: 'tcp' | 'grpc', port: number): MicroserviceOptions {
  return transport === 'tcp'
    ? { transport: Transport.TCP, options: { host: '127.0.0.1', port } }
    : {
        transport: Transport.GRPC,
        options: { package: 'auth', protoPath: PROTO_PATH, url: `127.0.0.1:${port}`, loader: { keepCase: true } },
      };
}
