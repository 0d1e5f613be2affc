/*
 * The few STM32F407 registers this HAL uses (addresses and bits from the reference manual
 * RM0090). No vendor headers: CMSIS is not needed for this much.
 */
#ifndef STM32F407_H
#define STM32F407_H

#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

/* ---- RCC ---- */
#define RCC_BASE 0x40023800u
#define RCC_CR REG(RCC_BASE + 0x00)
#define RCC_PLLCFGR REG(RCC_BASE + 0x04)
#define RCC_CFGR REG(RCC_BASE + 0x08)
#define RCC_AHB1ENR REG(RCC_BASE + 0x30)
#define RCC_APB1ENR REG(RCC_BASE + 0x40)
#define RCC_APB2ENR REG(RCC_BASE + 0x44)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_SRC_HSE (1u << 22)
#define RCC_CFGR_SW_PLL 2u
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_DIV4 (5u << 13)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_AHB1ENR_GPIOBEN (1u << 1)
#define RCC_AHB1ENR_GPIOCEN (1u << 2)
#define RCC_AHB1ENR_GPIODEN (1u << 3)
#define RCC_AHB1ENR_GPIOEEN (1u << 4)
#define RCC_APB1ENR_TIM2EN (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_USART3EN (1u << 18)
#define RCC_APB1ENR_UART4EN (1u << 19)
#define RCC_APB2ENR_USART1EN (1u << 4)
#define RCC_APB2ENR_USART6EN (1u << 5)

/* ---- FLASH ---- */
#define FLASH_ACR REG(0x40023C00u)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

/* ---- GPIO ---- */
struct gpio {
    volatile uint32_t MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFR[2];
};
#define GPIOA ((struct gpio *)0x40020000u)
#define GPIOB ((struct gpio *)0x40020400u)
#define GPIOC ((struct gpio *)0x40020800u)
#define GPIOD ((struct gpio *)0x40020C00u)
#define GPIOE ((struct gpio *)0x40021000u)
#define GPIO_MODE_IN 0u
#define GPIO_MODE_OUT 1u
#define GPIO_MODE_AF 2u

/* ---- USART (F4 generation: SR/DR, smartcard mode with GTPR) ---- */
struct usart {
    volatile uint32_t SR, DR, BRR, CR1, CR2, CR3, GTPR;
};
#define USART1 ((struct usart *)0x40011000u)
#define USART2 ((struct usart *)0x40004400u)
#define USART3 ((struct usart *)0x40004800u)
#define UART4 ((struct usart *)0x40004C00u)
#define UART5 ((struct usart *)0x40005000u)
#define USART6 ((struct usart *)0x40011400u)
#define USART_SR_PE (1u << 0)
#define USART_SR_FE (1u << 1)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TC (1u << 6)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_TCIE (1u << 6)
#define USART_CR1_TXEIE (1u << 7)
#define USART_CR1_PS (1u << 9)
#define USART_CR1_PCE (1u << 10)
#define USART_CR1_M (1u << 12)
#define USART_CR1_UE (1u << 13)
#define USART_CR2_CLKEN (1u << 11)
#define USART_CR2_STOP_1_5 (3u << 12)
#define USART_CR3_NACK (1u << 4)
#define USART_CR3_SCEN (1u << 5)

/* ---- TIM2 (32-bit) ---- */
#define TIM2_BASE 0x40000000u
#define TIM2_CR1 REG(TIM2_BASE + 0x00)
#define TIM2_DIER REG(TIM2_BASE + 0x0C)
#define TIM2_SR REG(TIM2_BASE + 0x10)
#define TIM2_EGR REG(TIM2_BASE + 0x14)
#define TIM2_CNT REG(TIM2_BASE + 0x24)
#define TIM2_PSC REG(TIM2_BASE + 0x28)
#define TIM2_ARR REG(TIM2_BASE + 0x2C)
#define TIM2_CCR(n) REG(TIM2_BASE + 0x34 + 4u * (n)) /* n = 0..3 for CCR1..CCR4 */
#define TIM_CR1_CEN 1u
#define TIM_EGR_UG 1u
#define TIM_CC_BIT(n) (1u << ((n) + 1)) /* CCxIE in DIER, CCxIF in SR */

/* ---- IWDG ---- */
#define IWDG_KR REG(0x40003000u)
#define IWDG_PR REG(0x40003004u)
#define IWDG_RLR REG(0x40003008u)
#define IWDG_SR REG(0x4000300Cu)

/* ---- Cortex-M4 core ---- */
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)
#define SCB_ICSR_PENDSTSET (1u << 26)
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))

/* Interrupt numbers (position in the vector table after the 16 system entries). */
#define IRQ_TIM2 28
#define IRQ_USART1 37
#define IRQ_USART2 38
#define IRQ_USART3 39
#define IRQ_UART4 52
#define IRQ_UART5 53
#define IRQ_USART6 71
#define IRQ_COUNT 82

static inline void irq_enable(unsigned irq) { NVIC_ISER(irq / 32u) = 1u << (irq % 32u); }
static inline void irqs_off(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irqs_on(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void wait_for_interrupt(void) { __asm volatile("wfi"); }

#endif
