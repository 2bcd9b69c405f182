// The demo story through the typed client, as a web or mobile app would run it:
// a person signs up and signs in, creates a company and selects it, lists and
// creates artists, books an event at a new venue, lets an integration read it
// with an API key until the key is revoked, and reads the company's trial
// balance. Every call is typed from the OpenAPI documents of the services.
//
// The services' base URLs come from MARQUEE_AUTH_URL, MARQUEE_PLATFORM_URL,
// MARQUEE_BASE_URL and MARQUEE_FINANCIAL_URL. With MARQUEE_ADMIN_EMAIL and
// MARQUEE_ADMIN_PASSWORD a platform operator also reads the company's trial.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import createClient from "openapi-fetch";

import type { paths as AuthPaths } from "./generated/auth.js";
import type { paths as BasePaths } from "./generated/base.js";
import type { paths as FinancialPaths } from "./generated/financial.js";
import type { paths as PlatformPaths } from "./generated/platform-core.js";

/** An answer the story did not expect: it stops with this message. */
class Unexpected extends Error {}

/** What every openapi-fetch call resolves to: the typed body of a success or the typed error envelope. */
interface Answer<Data, Failure> {
  data?: Data;
  error?: Failure;
  response: Response;
}

function say(line: string): void {
  console.log(line);
}

function baseUrl(variable: string): string {
  const value = process.env[variable]?.trim();
  if (!value) {
    throw new Unexpected(`${variable} is not set: give the service's base URL, e.g. http://127.0.0.1:8081`);
  }
  return value.replace(/\/+$/, "");
}

/**
 * Makes one call, and asks again while the answer is 503: the service's
 * dependency could not answer and it says when to retry (Retry-After). Such a
 * refusal comes before any business logic runs, so asking again is safe for
 * writes too. A service that cannot be reached stops the story.
 */
async function ask<Data, Failure>(
  step: string,
  call: () => Promise<Answer<Data, Failure>>,
): Promise<Answer<Data, Failure>> {
  for (let attempt = 1; ; attempt++) {
    let answer: Answer<Data, Failure>;
    try {
      answer = await call();
    } catch (failure) {
      const cause = failure instanceof Error && failure.cause instanceof Error ? `: ${failure.cause.message}` : "";
      throw new Unexpected(`${step}: no answer (${String(failure)}${cause})`);
    }
    if (answer.response.status !== 503 || attempt === 10) {
      return answer;
    }
    const seconds = Number(answer.response.headers.get("retry-after") ?? "1");
    await sleep(Math.min(Number.isFinite(seconds) ? seconds : 1, 1) * 1000);
  }
}

/** The body of the answer if it came with `status`; anything else stops the story, naming the step and the answer. */
async function succeed<Data, Failure>(
  step: string,
  status: number,
  call: () => Promise<Answer<Data, Failure>>,
): Promise<Data> {
  const { data, error, response } = await ask(step, call);
  if (response.status !== status || data === undefined) {
    const body = JSON.stringify(error ?? data ?? null);
    throw new Unexpected(`${step}: expected ${status}, got ${response.status} ${body}`);
  }
  return data;
}

/** The error envelope of a refusal with `status`; anything else stops the story. */
async function refused<Data, Failure>(
  step: string,
  status: number,
  call: () => Promise<Answer<Data, Failure>>,
): Promise<Failure> {
  const { data, error, response } = await ask(step, call);
  if (response.status !== status || error === undefined) {
    const body = JSON.stringify(data ?? error ?? null);
    throw new Unexpected(`${step}: expected a refusal with ${status}, got ${response.status} ${body}`);
  }
  return error;
}

async function story(): Promise<void> {
  const urls = {
    auth: baseUrl("MARQUEE_AUTH_URL"),
    platform: baseUrl("MARQUEE_PLATFORM_URL"),
    base: baseUrl("MARQUEE_BASE_URL"),
    financial: baseUrl("MARQUEE_FINANCIAL_URL"),
  };

  // Sign up, then sign in.
  const anonymous = createClient<AuthPaths>({ baseUrl: urls.auth });
  const email = `story.${randomUUID()}@example.com`;
  const password = `story-${randomUUID()}`;
  const me = await succeed("sign up", 201, () =>
    anonymous.POST("/v1/auth/signup", { body: { email, password, name: "Sam Story" } }),
  );
  say(`auth: signed up ${me.data.email}`);
  const tokens = await succeed("sign in", 200, () => anonymous.POST("/v1/auth/login", { body: { email, password } }));
  if (tokens.data.tokenType !== "Bearer" || tokens.data.accessToken === "") {
    throw new Unexpected(`sign in: expected a bearer access token, got ${JSON.stringify(tokens.data.tokenType)}`);
  }
  say(`auth: signed in, the access token lasts ${tokens.data.expiresIn} s`);
  const headers = { authorization: `Bearer ${tokens.data.accessToken}` };
  const auth = createClient<AuthPaths>({ baseUrl: urls.auth, headers });

  // A company of their own (they become its owner and its trial starts), then select it.
  const company = (
    await succeed("create a company", 201, () => auth.POST("/v1/companies", { body: { name: "Story Live" } }))
  ).data;
  say(`auth: created company "${company.name}"`);
  const mine = await succeed("list my companies", 200, () => auth.GET("/v1/companies"));
  const listed = mine.data.find((c) => c.id === company.id);
  if (listed === undefined) {
    throw new Unexpected(`list my companies: ${company.id} is missing from ${JSON.stringify(mine.data)}`);
  }
  // The selected company travels as x-org; if its trial has not started yet, wait for it.
  const myAccess = async () =>
    (await succeed("select the company", 200, () => auth.GET("/v1/me/access", { headers: { "x-org": company.id } })))
      .data;
  let access = await myAccess();
  for (let attempt = 1; !(access.modules.includes("basic") && access.modules.includes("financial")); attempt++) {
    if (attempt === 50) {
      throw new Unexpected(`select the company: modules ${JSON.stringify(access.modules)} lack basic or financial`);
    }
    await sleep(200);
    access = await myAccess();
  }
  say(`auth: selected it as ${listed.roles.join(", ")} with ${access.permissions.length} permissions`);
  // Every business call names the company and asks for access at least as fresh as that answer.
  const header = { "x-org": company.id, "x-access-revision": access.revision };

  // The artists: none yet; one is created, then found.
  const base = createClient<BasePaths>({ baseUrl: urls.base, headers });
  const empty = await succeed("list artists", 200, () =>
    base.GET("/v1/artists", { params: { header, query: { limit: 10 } } }),
  );
  say(`base: ${empty.pagination.total} artists`);
  const artist = (
    await succeed("create an artist", 201, () =>
      base.POST("/v1/artists", { params: { header }, body: { name: "The Midnight Owls", genres: ["jazz"] } }),
    )
  ).data;
  const artists = await succeed("list artists", 200, () =>
    base.GET("/v1/artists", { params: { header, query: { q: "owls" } } }),
  );
  if (artists.pagination.total !== 1 || artists.data[0]?.id !== artist.id) {
    throw new Unexpected(`list artists: expected only ${artist.id}, got ${JSON.stringify(artists.data)}`);
  }
  say(`base: created artist "${artist.name}"; the list has ${artists.pagination.total}`);

  // An event needs a venue.
  const venue = (
    await succeed("create a venue", 201, () =>
      base.POST("/v1/venues", {
        params: { header },
        body: {
          name: "Coliseu do Porto",
          address: { line1: "Rua de Passos Manuel 137", city: "Porto", country: "PT" },
          timezone: "Europe/Lisbon",
          capacity: 3000,
        },
      }),
    )
  ).data;
  say(`base: created venue "${venue.name}"`);
  const startsAt = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  const endsAt = new Date(startsAt.getTime() + 3 * 3600 * 1000);
  const event = (
    await succeed("create an event", 201, () =>
      base.POST("/v1/events", {
        params: { header },
        body: {
          name: "Owls at the Coliseu",
          venueId: venue.id,
          startsAt: startsAt.toISOString(),
          endsAt: endsAt.toISOString(),
          lineup: [{ artistId: artist.id }],
        },
      }),
    )
  ).data;
  if (event.status !== "draft" || event.lineup[0]?.artistId !== artist.id) {
    throw new Unexpected(`create an event: expected a draft with the artist, got ${JSON.stringify(event)}`);
  }
  say(`base: created event "${event.name}" (${event.status}) in ${event.timezone}`);

  // An integration holds only an API key: it reads events and the webhook event types, nothing else,
  // until the key is revoked.
  const key = (
    await succeed("create an API key", 201, () =>
      auth.POST("/v1/companies/{id}/api-keys", {
        params: { path: { id: company.id } },
        body: { name: "Story CRM", permissions: ["basic.event.view", "basic.webhook.view"] },
      }),
    )
  ).data;
  const grant = (
    await succeed("exchange the key for a token", 200, () =>
      anonymous.POST("/v1/auth/token", {
        body: { grantType: "client_credentials", clientId: key.id, clientSecret: key.secret },
      }),
    )
  ).data;
  const integration = createClient<BasePaths>({
    baseUrl: urls.base,
    headers: { authorization: `Bearer ${grant.accessToken}` },
  });
  const keyHeader = { "x-org": grant.companyId };
  const seen = await succeed("list events with the key", 200, () =>
    integration.GET("/v1/events", { params: { header: keyHeader } }),
  );
  if (!seen.data.some((e) => e.id === event.id)) {
    throw new Unexpected(`list events with the key: ${event.id} is missing`);
  }
  const eventTypes = (
    await succeed("list webhook event types with the key", 200, () =>
      integration.GET("/v1/webhooks/event-types", { params: { header: keyHeader } }),
    )
  ).data;
  const denied = await refused("create an artist with the key", 403, () =>
    integration.POST("/v1/artists", { params: { header: keyHeader }, body: { name: "Not allowed" } }),
  );
  say(
    `auth: API key ${key.prefix}… reads ${seen.pagination.total} events and ${eventTypes.length} webhook event types; ` +
      `writing is refused (${denied.error})`,
  );
  await succeed("revoke the API key", 200, () =>
    auth.DELETE("/v1/companies/{id}/api-keys/{key_id}", { params: { path: { id: company.id, key_id: key.id } } }),
  );
  for (let attempt = 1; ; attempt++) {
    const { response } = await ask("list events with a revoked key", () =>
      integration.GET("/v1/events", { params: { header: keyHeader } }),
    );
    if (response.status === 401) {
      break;
    }
    if (attempt === 50) {
      throw new Unexpected(`list events with a revoked key: still ${response.status} after 5 s`);
    }
    await sleep(100);
  }
  say("auth: the revoked key is refused");

  // The books: in every currency the debits equal the credits.
  const financial = createClient<FinancialPaths>({ baseUrl: urls.financial, headers });
  const balance = (
    await succeed("read the trial balance", 200, () =>
      financial.GET("/v1/ledger/trial-balance", { params: { header } }),
    )
  ).data;
  const unbalanced = balance.totals.filter((t) => t.difference !== 0 || t.debits !== t.credits);
  if (unbalanced.length > 0) {
    throw new Unexpected(`read the trial balance: unbalanced ${JSON.stringify(unbalanced)}`);
  }
  say(`financial: trial balance of ${balance.accounts.length} accounts, balanced in ${balance.totals.length} currencies`);

  // platform-core is for platform operators: the owner gets the error envelope.
  const platform = createClient<PlatformPaths>({ baseUrl: urls.platform, headers });
  const refusal = await refused("list modules as the owner", 403, () => platform.GET("/v1/modules"));
  say(`platform-core: the owner is refused (${refusal.statusCode} ${refusal.error})`);
  const operatorEmail = process.env["MARQUEE_ADMIN_EMAIL"];
  const operatorPassword = process.env["MARQUEE_ADMIN_PASSWORD"];
  if (operatorEmail && operatorPassword) {
    const operatorTokens = await succeed("sign in as the operator", 200, () =>
      anonymous.POST("/v1/auth/login", { body: { email: operatorEmail, password: operatorPassword } }),
    );
    const operator = createClient<PlatformPaths>({
      baseUrl: urls.platform,
      headers: { authorization: `Bearer ${operatorTokens.data.accessToken}` },
    });
    const subscription = (
      await succeed("read the company's subscription", 200, () =>
        operator.GET("/v1/companies/{id}/subscription", { params: { path: { id: company.id } } }),
      )
    ).data;
    if (subscription.status !== "trialing") {
      throw new Unexpected(`read the company's subscription: expected a trial, got ${JSON.stringify(subscription)}`);
    }
    say(`platform-core: the operator sees the company ${subscription.status} on "${subscription.package.code}"`);
  }

  say("typescript client story: ok");
}

try {
  await story();
} catch (failure) {
  if (failure instanceof Unexpected) {
    console.error(`typescript client story failed: ${failure.message}`);
  } else {
    console.error("typescript client story failed:", failure);
  }
  process.exitCode = 1;
}
