import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'
import RegisterView from './views/RegisterView.vue'
import LoginView from './views/LoginView.vue'
import AccountView from './views/AccountView.vue'
import DocumentsView from './views/DocumentsView.vue'
import AdminUsersView from './views/AdminUsersView.vue'
import AdminAuditView from './views/AdminAuditView.vue'
import AdminTopicsView from './views/AdminTopicsView.vue'
import AdminAiView from './views/AdminAiView.vue'
import SharedView from './views/SharedView.vue'
import SearchView from './views/SearchView.vue'
import VerifyEmailView from './views/VerifyEmailView.vue'
import ForgotPasswordView from './views/ForgotPasswordView.vue'
import ResetPasswordView from './views/ResetPasswordView.vue'
import ConfirmEmailView from './views/ConfirmEmailView.vue'
import NotFoundView from './views/NotFoundView.vue'
import { restore, session } from './services/session'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Only for signed-in people: others are sent to sign in first. */
    requiresAuth?: boolean
    /** Only for administrators: others are sent to their account page. */
    requiresAdmin?: boolean
  }
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'home', component: HomeView },
    { path: '/register', name: 'register', component: RegisterView, meta: { title: 'Create account' } },
    { path: '/login', name: 'login', component: LoginView, meta: { title: 'Sign in' } },
    {
      path: '/confirm-email',
      name: 'confirm-email',
      component: ConfirmEmailView,
      meta: { title: 'Confirm your new email' },
    },
    { path: '/verify-email', name: 'verify-email', component: VerifyEmailView, meta: { title: 'Confirm your email' } },
    {
      path: '/forgot-password',
      name: 'forgot-password',
      component: ForgotPasswordView,
      meta: { title: 'Forgot your password?' },
    },
    {
      path: '/reset-password',
      name: 'reset-password',
      component: ResetPasswordView,
      meta: { title: 'Choose a new password' },
    },
    {
      path: '/documents',
      name: 'documents',
      component: DocumentsView,
      meta: { title: 'Your documents', requiresAuth: true },
    },
    {
      path: '/shared',
      name: 'shared',
      component: SharedView,
      meta: { title: 'Shared with me', requiresAuth: true },
    },
    {
      path: '/search',
      name: 'search',
      component: SearchView,
      meta: { title: 'Search', requiresAuth: true },
    },
    {
      path: '/account',
      name: 'account',
      component: AccountView,
      meta: { title: 'Your account', requiresAuth: true },
    },
    {
      path: '/admin/users',
      name: 'admin-users',
      component: AdminUsersView,
      meta: { title: 'Users', requiresAuth: true, requiresAdmin: true },
    },
    {
      path: '/admin/topics',
      name: 'admin-topics',
      component: AdminTopicsView,
      meta: { title: 'System topics', requiresAuth: true, requiresAdmin: true },
    },
    {
      path: '/admin/ai',
      name: 'admin-ai',
      component: AdminAiView,
      meta: { title: 'AI classifiers', requiresAuth: true, requiresAdmin: true },
    },
    {
      path: '/admin/audit',
      name: 'admin-audit',
      component: AdminAuditView,
      meta: { title: 'Audit log', requiresAuth: true, requiresAdmin: true },
    },
    { path: '/:pathMatch(.*)*', name: 'not-found', component: NotFoundView, meta: { title: 'Page not found' } },
  ],
})

router.beforeEach(async (to) => {
  const signedIn = await restore()
  if (to.meta.requiresAuth && !signedIn) return { path: '/login', query: { next: to.fullPath } }
  if (to.meta.requiresAdmin && session.role !== 'admin') return { path: '/account' }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · DocuVault` : 'DocuVault'
})
