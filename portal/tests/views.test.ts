import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory } from 'vue-router'
import App from '../src/App.vue'
import { makeI18n } from '../src/i18n'
import { makeRouter } from '../src/router'

const standards = [
  ['name', '事项名称', '建筑工程施工许可'], ['department', '承办单位', { code: 'jsj', name: '市建设局' }],
  ['procedure', '办事程序', ['网上申报', '受理']],
  ['materials', '资料要求', [{ code: 'a', name: '申请表', required: true }]],
  ['promised_days', '承诺时限（工作日）', 10], ['fee', '收费标准', { amount_yuan: '0.00', basis: '不收费' }],
  ['forms', '下载表格', []], ['legal_basis', '法律依据', ['《建筑法》']],
].map(([key, label, value]) => ({ key, label, value }))

const routes: Record<string, unknown> = {
  '/api/departments': { items: [{ code: 'jsj', name: '市建设局', online: true, services: 12,
    online_services: 7 }], total: 1 },
  '/api/services': { items: [{ code: '441200-jsj-0001', name: '建筑工程施工许可', department: 'jsj',
    department_name: '市建设局', sector: '建设', online: true }], total: 1, next_cursor: null },
  '/api/services/441200-jsj-0001': { code: '441200-jsj-0001', name: '建筑工程施工许可',
    department: { code: 'jsj', name: '市建设局' }, sector: '建设', public_standards: standards,
    promised_days: 10, legal_days: 20, online: true,
    routing: { model: 'parallel', stages: [{ working_days: 10, departments: [
      { code: 'jsj', name: '市建设局' }, { code: 'xfj', name: '市消防局' }] }] } },
}

function stubFetch() {
  const fetcher = vi.fn(async (url: string) => {
    const path = url.split('?')[0]
    if (path in routes) return new Response(JSON.stringify(routes[path]), { status: 200 })
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: '查询码不正确或回执不存在' } }),
      { status: 404 })
  })
  vi.stubGlobal('fetch', fetcher)
  return fetcher
}

async function mountAt(path: string) {
  const router = makeRouter(createMemoryHistory())
  router.push(path)
  await router.isReady()
  const wrapper = mount(App, { global: { plugins: [makeI18n('zh-CN'), router] } })
  await flushPromises()
  return { wrapper, router }
}

afterEach(() => vi.unstubAllGlobals())

describe('home', () => {
  it('lists departments with counts and marks online items', async () => {
    stubFetch()
    const { wrapper } = await mountAt('/')
    expect(wrapper.text()).toContain('市建设局')
    expect(wrapper.text()).toContain('12 项，全程网办 7 项')
    expect(wrapper.find('.badge.online').text()).toBe('全程网办')
    expect(wrapper.text()).toContain('共找到 1 个事项')
  })

  it('puts the keyword into the search', async () => {
    const fetcher = stubFetch()
    const { wrapper } = await mountAt('/')
    await wrapper.find('#keyword').setValue('施工')
    await wrapper.find('form[role=search]').trigger('submit')
    await flushPromises()
    const urls = fetcher.mock.calls.map((c) => c[0] as string)
    expect(urls.some((u) => u.startsWith('/api/services?') && u.includes('q=%E6%96%BD%E5%B7%A5'))).toBe(true)
  })

  it('switches to English', async () => {
    stubFetch()
    const { wrapper } = await mountAt('/')
    await wrapper.find('[data-testid=language]').trigger('click')
    expect(wrapper.text()).toContain('Find a service')
    expect(wrapper.text()).toContain('12 services, 7 fully online')
  })
})

describe('item', () => {
  it('shows the eight standards in order, the parallel review and the apply button', async () => {
    stubFetch()
    const { wrapper } = await mountAt('/services/441200-jsj-0001')
    expect(wrapper.findAll('dt[data-key]').map((dt) => dt.text())).toEqual(
      ['事项名称', '承办单位', '办事程序', '资料要求', '承诺时限（工作日）', '收费标准', '下载表格', '法律依据'])
    expect(wrapper.text()).toContain('以下部门并联审查')
    expect(wrapper.text()).toContain('市消防局')
    expect(wrapper.find('[data-testid=apply]').text()).toBe('在线申报')
  })
})

describe('not found', () => {
  it('says so in plain words', async () => {
    stubFetch()
    const { wrapper } = await mountAt('/no/such/page')
    expect(wrapper.find('h1').text()).toBe('页面不存在')
  })
})

describe('track', () => {
  it('shows status, open tasks and the timeline in Chinese', async () => {
    routes['/api/track/R1'] = { receipt: 'R1', status: 'IN_REVIEW', reason: null, reason_text: null,
      service_code: 'x', received_at: '2026-12-01T10:00:00+08:00', updated_at: '2026-12-01T10:00:00+08:00',
      due_date: '2026-12-16', tasks: [{ department: 'jmj', department_name: '市经济贸易局', stage: 1,
        state: 'OPEN', due_date: '2026-12-16', working_days_left: 10, clock: 'running' }],
      timeline: [{ seq: 1, at: '2026-12-01T10:00:00+08:00', event: 'ACCEPTED' },
        { seq: 2, at: '2026-12-01T10:00:01+08:00', event: 'NOTIFIED', channel: 'sms' },
        { seq: 3, at: '2026-12-01T10:00:02+08:00', event: 'NOTIFIED', channel: 'inbox',
          about: 'accepted' }] }
    stubFetch()
    const { wrapper } = await mountAt('/track?receipt=R1&code=C')
    expect(wrapper.find('[data-testid=status]').text()).toBe('审查中')
    expect(wrapper.text()).toContain('市经济贸易局 — 剩余 10 个工作日，应于 2026-12-16 前办结')
    expect(wrapper.find('ol.timeline').text()).toContain('已受理')
    expect(wrapper.find('ol.timeline').text()).toContain('已通知申请人（短信）')
    expect(wrapper.find('ol.timeline').text()).toContain('已通知申请人（站内消息）：已受理')
  })


  it('shows the API error in plain words', async () => {
    stubFetch()
    const { wrapper } = await mountAt('/track')
    await wrapper.find('#receipt').setValue('R404')
    await wrapper.find('#code').setValue('WRONG')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[role=alert]').text()).toContain('查询码不正确或回执不存在')
  })
})
