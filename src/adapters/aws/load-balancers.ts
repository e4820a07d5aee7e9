import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Action, ElasticLoadBalancingV2Client, Listener, Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ForwardWeights } from '../../platforms/ecs/domain.js';
import type { ListenerForward, ListenerInfo, LoadBalancers } from '../../platforms/ecs/ports.js';
import { DEFAULT_FORWARD_WEIGHT, forwardsToRewrite, missingListener } from '../ecs-common.js';
import { mapAwsError } from './errors.js';

/** The weights of a forward action: its ForwardConfig (a missing Weight is 1) or its plain TargetGroupArn. */
export function forwardWeightsOf(action: Action): ForwardWeights {
  const groups = action.ForwardConfig?.TargetGroups ?? [];
  if (groups.length)
    return Object.fromEntries(
      groups.flatMap((g) => (g.TargetGroupArn ? [[g.TargetGroupArn, g.Weight ?? DEFAULT_FORWARD_WEIGHT]] : [])),
    );
  return action.TargetGroupArn ? { [action.TargetGroupArn]: DEFAULT_FORWARD_WEIGHT } : {};
}

const forwardOf = (actions: Action[] | undefined): Action | undefined => actions?.find((a) => a.Type === 'forward');

/**
 * `actions` with the forward replaced by one at `weights` (one target group: a plain forward, as a
 * Network Load Balancer needs). The forward keeps its Order and stickiness; every other action is
 * sent back as ELB described it.
 */
function withForward(actions: Action[], weights: ForwardWeights): Action[] {
  return actions.map((a) => {
    if (a.Type !== 'forward') {
      // ELB never describes an OIDC client secret; without this, ModifyListener/ModifyRule would ask for it.
      if (a.Type === 'authenticate-oidc' && a.AuthenticateOidcConfig) {
        const { ClientSecret: _secret, ...oidc } = a.AuthenticateOidcConfig;
        return { ...a, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
      }
      return a;
    }
    const order = a.Order !== undefined ? { Order: a.Order } : {};
    const arns = Object.keys(weights);
    if (arns.length === 1) return { Type: 'forward', ...order, TargetGroupArn: arns[0] };
    const stickiness = a.ForwardConfig?.TargetGroupStickinessConfig;
    return {
      Type: 'forward',
      ...order,
      ForwardConfig: {
        TargetGroups: arns.map((arn) => ({ TargetGroupArn: arn, Weight: weights[arn] })),
        ...(stickiness ? { TargetGroupStickinessConfig: stickiness } : {}),
      },
    };
  });
}

/**
 * ELBv2 listeners and target groups. Calls `elasticloadbalancing:DescribeListeners`,
 * `DescribeRules`, `DescribeTargetGroups`, `ModifyListener` and `ModifyRule`.
 */
export class ElbListenerRouter implements LoadBalancers {
  constructor(private readonly client: ElasticLoadBalancingV2Client) {}

  /** Send one call about a listener; ListenerNotFoundException is a PreconditionFailedError, the rest mapAwsError. */
  private async send<T>(what: string, listenerArn: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && e.name === 'ListenerNotFoundException')
        throw missingListener(listenerArn, `${e.name}: ${e.message}`);
      throw mapAwsError(e, what);
    }
  }

  /** The listener and its non-default rules, as ELB describes them. */
  private async read(listenerArn: string): Promise<{ listener: Listener; rules: Rule[]; info: ListenerInfo }> {
    const res = await this.send(`DescribeListeners ${listenerArn}`, listenerArn, () =>
      this.client.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] })),
    );
    const listener = res.Listeners?.[0];
    if (!listener) throw missingListener(listenerArn, 'DescribeListeners returned no listener');
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const page = await this.send(`DescribeRules ${listenerArn}`, listenerArn, () =>
        this.client.send(new DescribeRulesCommand({ ListenerArn: listenerArn, ...(marker ? { Marker: marker } : {}) })),
      );
      rules.push(...(page.Rules ?? []).filter((r) => !r.IsDefault));
      marker = page.NextMarker;
    } while (marker);

    const forwards: ListenerForward[] = [];
    const byDefault = forwardOf(listener.DefaultActions);
    if (byDefault) forwards.push({ weights: forwardWeightsOf(byDefault) });
    for (const r of rules) {
      const f = forwardOf(r.Actions);
      if (f && r.RuleArn) forwards.push({ ruleArn: r.RuleArn, weights: forwardWeightsOf(f) });
    }
    const info = {
      listenerArn: listener.ListenerArn ?? listenerArn,
      loadBalancerArn: listener.LoadBalancerArn ?? '',
      protocol: listener.Protocol ?? 'HTTP',
      port: listener.Port ?? 0,
      forwards,
    };
    return { listener, rules, info };
  }

  async describeListener(listenerArn: string): Promise<ListenerInfo> {
    return (await this.read(listenerArn)).info;
  }

  async targetGroupArns(names: string[]): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    try {
      const res = await this.client.send(new DescribeTargetGroupsCommand({ Names: names }));
      return Object.fromEntries(
        (res.TargetGroups ?? []).flatMap((g) =>
          g.TargetGroupName && g.TargetGroupArn ? [[g.TargetGroupName, g.TargetGroupArn]] : [],
        ),
      );
    } catch (e) {
      if (!(e instanceof Error && e.name === 'TargetGroupNotFoundException'))
        throw mapAwsError(e, `DescribeTargetGroups ${names.join(',')}`);
      // ELB refuses the whole call when any name is missing: ask for each alone and leave out the missing.
      if (names.length === 1) return {};
      const each = await Promise.all(names.map((n) => this.targetGroupArns([n])));
      return Object.assign({}, ...each) as Record<string, string>;
    }
  }

  async setForward(listenerArn: string, pair: [string, string], weights: ForwardWeights): Promise<void> {
    const { listener, rules, info } = await this.read(listenerArn);
    for (const f of forwardsToRewrite(info, pair, weights)) {
      const ruleArn = f.ruleArn;
      if (ruleArn === undefined) {
        const DefaultActions = withForward(listener.DefaultActions ?? [], f.weights);
        await this.send(`ModifyListener ${listenerArn}`, listenerArn, () =>
          this.client.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions })),
        );
      } else {
        const Actions = withForward(rules.find((r) => r.RuleArn === ruleArn)?.Actions ?? [], f.weights);
        await this.send(`ModifyRule ${ruleArn}`, listenerArn, () =>
          this.client.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions })),
        );
      }
    }
  }
}
