// tests/node/scenario.mjs: the official OpenAI Node SDK against the fake Admin API.
//
//   OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_ADMIN_KEY=sk-admin-fake-key node tests/node/scenario.mjs
//
// Needs seed data with at least 3 organization users (bin/openai-admin-fake --users 5).
// Prints one line per step; exits 0 when every step passed, 1 otherwise (first failure).
// Run by tests/node_sdk_spec.lua when node and tests/node/node_modules exist.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.OPENAI_BASE_URL ?? process.argv[2];
const adminAPIKey = process.env.OPENAI_ADMIN_KEY ?? 'sk-admin-fake-key';
if (!baseURL) {
  console.error('usage: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 node scenario.mjs');
  process.exit(2);
}

const client = new OpenAI({ adminAPIKey, apiKey: 'unused', baseURL, maxRetries: 0, timeout: 20_000 });
const org = client.admin.organization;

let step = 0;
async function check(name, fn) {
  step += 1;
  try {
    await fn();
    console.log(`ok ${step} ${name}`);
  } catch (err) {
    console.log(`not ok ${step} ${name}`);
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  }
}

async function collect(pager) {
  const out = [];
  for await (const item of pager) out.push(item);
  return out;
}

const suffix = `${process.pid}-${Date.now()}`;
const ctx = {};

await check('projects: create, auto-paginate, retrieve, update, archive', async () => {
  const created = [];
  for (let i = 0; i < 3; i++) {
    const p = await org.projects.create({ name: `sdk project ${i} ${suffix}` });
    assert.equal(p.object, 'organization.project');
    assert.equal(p.name, `sdk project ${i} ${suffix}`);
    assert.match(p.id, /^proj_/);
    created.push(p);
  }
  const all = await collect(org.projects.list({ limit: 2 }));
  const ids = new Set(all.map((p) => p.id));
  assert.equal(ids.size, all.length, 'auto-pagination returned duplicates');
  for (const p of created) assert.ok(ids.has(p.id), `list is missing ${p.id}`);
  const got = await org.projects.retrieve(created[0].id);
  assert.equal(got.id, created[0].id);
  const renamed = await org.projects.update(created[0].id, { name: `renamed ${suffix}` });
  assert.equal(renamed.name, `renamed ${suffix}`);
  assert.equal((await org.projects.retrieve(created[0].id)).name, `renamed ${suffix}`);
  const archived = await org.projects.archive(created[2].id);
  assert.equal(archived.status, 'archived');
  ctx.project = created[0];
});

await check('organization users: auto-paginate, retrieve', async () => {
  const users = await collect(org.users.list({ limit: 2 }));
  assert.ok(users.length >= 3, `expected seeded users, got ${users.length}`);
  assert.equal(new Set(users.map((u) => u.id)).size, users.length);
  const u = await org.users.retrieve(users[0].id);
  assert.equal(u.id, users[0].id);
  assert.equal(u.object, 'organization.user');
  ctx.users = users;
});

await check('project users: create, list, retrieve, update, delete', async () => {
  const projectID = ctx.project.id;
  const user = ctx.users[ctx.users.length - 1];
  const pu = await org.projects.users.create(projectID, { role: 'member', user_id: user.id });
  assert.equal(pu.id, user.id);
  assert.equal(pu.role, 'member');
  const listed = await collect(org.projects.users.list(projectID, { limit: 1 }));
  assert.ok(listed.some((x) => x.id === user.id));
  const got = await org.projects.users.retrieve(user.id, { project_id: projectID });
  assert.equal(got.id, user.id);
  const updated = await org.projects.users.update(user.id, { project_id: projectID, role: 'owner' });
  assert.equal(updated.role, 'owner');
  const del = await org.projects.users.delete(user.id, { project_id: projectID });
  assert.equal(del.deleted, true);
  await assert.rejects(org.projects.users.retrieve(user.id, { project_id: projectID }), OpenAI.NotFoundError);
});

await check('service accounts: create, list, retrieve, delete', async () => {
  const projectID = ctx.project.id;
  const sa = await org.projects.serviceAccounts.create(projectID, { name: `sdk sa ${suffix}` });
  assert.equal(sa.object, 'organization.project.service_account');
  assert.equal(sa.name, `sdk sa ${suffix}`);
  const listed = await collect(org.projects.serviceAccounts.list(projectID, { limit: 1 }));
  assert.ok(listed.some((x) => x.id === sa.id));
  const got = await org.projects.serviceAccounts.retrieve(sa.id, { project_id: projectID });
  assert.equal(got.id, sa.id);
  const del = await org.projects.serviceAccounts.delete(sa.id, { project_id: projectID });
  assert.equal(del.deleted, true);
});

await check('groups and group users: create, list, retrieve, update, delete', async () => {
  const g = await org.groups.create({ name: `sdk group ${suffix}` });
  assert.equal(g.name, `sdk group ${suffix}`);
  const groups = await collect(org.groups.list({ limit: 1 }));
  assert.ok(groups.some((x) => x.id === g.id));
  assert.equal((await org.groups.retrieve(g.id)).id, g.id);
  const upd = await org.groups.update(g.id, { name: `sdk group renamed ${suffix}` });
  assert.equal(upd.name, `sdk group renamed ${suffix}`);
  const user = ctx.users[0];
  await org.groups.users.create(g.id, { user_id: user.id });
  const members = await collect(org.groups.users.list(g.id, { limit: 1 }));
  assert.ok(members.some((x) => x.id === user.id));
  const removed = await org.groups.users.delete(user.id, { group_id: g.id });
  assert.equal(removed.deleted, true);
  const del = await org.groups.delete(g.id);
  assert.equal(del.deleted, true);
  await assert.rejects(org.groups.retrieve(g.id), OpenAI.NotFoundError);
});

await check('invites: create, list, retrieve, delete', async () => {
  const email = `sdk-${suffix}@example.com`;
  const inv = await org.invites.create({ email, role: 'reader' });
  assert.equal(inv.object, 'organization.invite');
  assert.equal(inv.email, email);
  const listed = await collect(org.invites.list({ limit: 1 }));
  assert.ok(listed.some((x) => x.id === inv.id));
  assert.equal((await org.invites.retrieve(inv.id)).email, email);
  const del = await org.invites.delete(inv.id);
  assert.equal(del.deleted, true);
});

await check('admin api keys: create, list, retrieve, delete', async () => {
  const key = await org.adminAPIKeys.create({ name: `sdk key ${suffix}` });
  assert.equal(typeof key.value, 'string');
  assert.ok(key.value.length > 10);
  const listed = await collect(org.adminAPIKeys.list({ limit: 1 }));
  assert.ok(listed.some((x) => x.id === key.id));
  assert.equal((await org.adminAPIKeys.retrieve(key.id)).id, key.id);
  const del = await org.adminAPIKeys.delete(key.id);
  assert.equal(del.deleted, true);
});

await check('errors: 404 is NotFoundError, bad key is AuthenticationError', async () => {
  await assert.rejects(org.projects.retrieve('proj_does_not_exist'), (err) => {
    assert.ok(err instanceof OpenAI.NotFoundError);
    assert.equal(err.status, 404);
    return true;
  });
  const bad = new OpenAI({ adminAPIKey: 'sk-admin-wrong', apiKey: 'unused', baseURL, maxRetries: 0 });
  await assert.rejects(bad.admin.organization.projects.list(), OpenAI.AuthenticationError);
});

console.log(`all ${step} steps passed`);
