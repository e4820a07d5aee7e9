/** In-place traffic control of one host, on the SimWorld's target groups (virtual time). */
import { describe, expect, it } from 'vitest';
import { SimTargetGroupTargets } from '../../src/adapters/sim/adapters.js';
import { SimWorld } from '../../src/adapters/sim/world.js';
import { allowTraffic, blockTraffic } from '../../src/platforms/server/traffic.js';
import { ManualClock } from '../support/manual-clock.js';

function setup() {
  const clock = new ManualClock();
  const world = new SimWorld(clock, {
    servers: {
      instances: [{ id: 'i-1' }, { id: 'i-2' }],
      targetGroups: [
        { name: 'web-a', targets: ['i-1', 'i-2'], deregistrationDelaySeconds: 30, healthyAfterSeconds: 10 },
        { name: 'web-b', targets: ['i-1', 'i-2'], deregistrationDelaySeconds: 5, healthyAfterSeconds: 20 },
      ],
    },
  });
  const targets = new SimTargetGroupTargets(world);
  return { clock, world, targets };
}

describe('in-place traffic control', () => {
  it('BlockTraffic deregisters from every target group and is done only once both drained', async () => {
    const { clock, world, targets } = setup();
    const arns = Object.values(await targets.arns(['web-a', 'web-b']));
    const first = await blockTraffic(targets, arns, 'i-1');
    expect(first.done).toBe(false);
    expect(Object.values(first.observed)).toEqual(['draining', 'draining']);
    clock.advance(10);
    expect((await blockTraffic(targets, arns, 'i-1')).done).toBe(false); // web-a still drains
    clock.advance(30);
    expect(await blockTraffic(targets, arns, 'i-1')).toMatchObject({ done: true });
    expect(world.servers.registered('web-a')).toEqual(['i-2']);
    expect(world.servers.registered('web-b')).toEqual(['i-2']);
  });

  it('AllowTraffic registers and waits for healthy; a host that stays unhealthy fails at its deadline', async () => {
    const { clock, world, targets } = setup();
    const arns = Object.values(await targets.arns(['web-a', 'web-b']));
    await blockTraffic(targets, arns, 'i-1');
    clock.advance(60);
    expect((await allowTraffic(targets, arns, 'i-1', false)).done).toBe(false);
    clock.advance(15);
    expect((await allowTraffic(targets, arns, 'i-1', false)).done).toBe(false); // web-b: initial for 20 s
    clock.advance(10);
    expect(await allowTraffic(targets, arns, 'i-1', false)).toMatchObject({ done: true });
    expect(world.servers.registered('web-a').sort()).toEqual(['i-1', 'i-2']);

    world.servers.setHealthy('i-2', false);
    await blockTraffic(targets, arns, 'i-2');
    clock.advance(60);
    await allowTraffic(targets, arns, 'i-2', false);
    clock.advance(60);
    const late = await allowTraffic(targets, arns, 'i-2', true);
    expect(late).toMatchObject({ done: false });
    expect('failed' in late && late.failed).toBe(
      'i-2 did not become healthy in its target groups before the AllowTraffic deadline (web-a: unhealthy, web-b: unhealthy)',
    );
  });
});
