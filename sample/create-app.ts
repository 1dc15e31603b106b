import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, type SampleSettings } from './app.module.js';
import { setupOpenApi } from './openapi/openapi.js';

export type SampleAdapter = 'express' | 'fastify';

/** Builds the sample app on either adapter (the library behaves the same on both). */
export async function createSampleApp(adapter: SampleAdapter, settings: SampleSettings, logger = true): Promise<INestApplication> {
  const module = AppModule.register({ ...settings, adapter });
  const options = { logger: logger ? undefined : (false as const) };
  const app =
    adapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), options)
      : await NestFactory.create(module, new ExpressAdapter(), options);
  setupOpenApi(app);
  return app;
}
